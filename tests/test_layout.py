"""The layout holds: only `peftspec/runs/` names run-directory files, `peftspec/train/` never imports
the spec layer, and modules stay small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

from peftspec.runs.layout import EXTRA_PREFIXES, FILE_NAMES
from tests.conftest import ROOT

PACKAGE = ROOT / "peftspec"


def modules(under: Path = PACKAGE) -> list[Path]:
    return sorted(under.rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (module, class, function, attribute)."""
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for stmt in body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                ids.add(id(stmt.value))
    return ids


GUARDED = [name for name in FILE_NAMES if name != "spec.toml"]
"""The run directory's file names; `spec.toml` is left out because it is also the usual name of a
user's own spec (`peftspec init` writes one)."""
PATTERNS = {f"{prefix}{{}}" for prefix in EXTRA_PREFIXES} | {
    f"{prefix}{{}}{suffix}" for prefix in EXTRA_PREFIXES for suffix in (".json", ".parquet")
}
"""f-string skeletons of the per-name files: `eval-{}.json`, `rank-{}.json`, `checkpoint-{}`."""


def _skeleton(node: ast.JoinedStr) -> str:
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def run_file_names(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each string literal in `path` that names a run-directory file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
            if _skeleton(node) in PATTERNS:
                found.append((node.lineno, _skeleton(node)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found += [(node.lineno, node.value)] if any(name in node.value for name in GUARDED) else []
    return found


def test_only_runs_names_run_directory_files():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in modules()
        if PACKAGE / "runs" not in path.parents
        for line, text in run_file_names(path)
    ]
    assert not offenders, "name run files through peftspec.runs.RunPaths:\n" + "\n".join(offenders)


def test_the_file_name_check_can_fail(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        '"""Reads run.json (a docstring may say so)."""\n'
        'PATH = root / "metrics.jsonl"\n'
        'X = f"eval-{n}.json"\n'
        'Y = f"confusion-{n}.png"\n'
    )
    assert sorted(text for _, text in run_file_names(bad)) == ["eval-{}.json", "metrics.jsonl"]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
    return found


def test_train_never_imports_the_spec_layer():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in modules(PACKAGE / "train")
        for line, name in imported_modules(path)
        if name == "peftspec.spec" or name.startswith("peftspec.spec.")
    ]
    assert not offenders, "train/ receives a CompiledRun, never the spec:\n" + "\n".join(offenders)


def test_modules_stay_small():
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in modules()}
    too_long = [f"{p.relative_to(ROOT)}: {n} lines" for p, n in sizes.items() if n > 400]
    assert not too_long, "split these along the architecture:\n" + "\n".join(too_long)
    commands = [f"{p.name}: {n}" for p, n in sizes.items() if p.parent == PACKAGE / "cli" and n > 130]
    assert not commands, "a command module parses, calls one function and prints:\n" + "\n".join(commands)

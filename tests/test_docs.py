"""Generated docs must match the schema, and the commands the docs show must work."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from peftspec.spec.reference import json_schema_text, reference_markdown
from tests.conftest import ROOT

REGENERATE = "python -m peftspec.spec.reference docs"


def test_spec_reference_is_fresh():
    current = (ROOT / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    assert current == reference_markdown(), f"docs/spec-reference.md is stale: run `{REGENERATE}`"


def test_json_schema_file_is_fresh():
    current = (ROOT / "docs" / "spec.schema.json").read_text(encoding="utf-8")
    assert current == json_schema_text(), f"docs/spec.schema.json is stale: run `{REGENERATE}`"


def test_reference_documents_every_field_with_a_description():
    from peftspec.spec.reference import sections
    from peftspec.spec.root import Spec

    for path, model, _ in sections(Spec):
        for name, info in model.model_fields.items():
            assert info.description, f"{'.'.join((*path, name))} has no docstring"


def test_linting_page_commands_run():
    """Every `peftspec lint ...` line in docs/linting.md runs against the shipped specs."""
    page = (ROOT / "docs" / "linting.md").read_text(encoding="utf-8")
    commands = sorted(set(re.findall(r"^\s*(peftspec lint [^\n#]*?)\s*$", page, re.M)))
    assert len(commands) >= 3
    for command in commands:
        args = shlex.split(command)[1:]
        proc = subprocess.run(
            [sys.executable, "-m", "peftspec", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"{command}: {proc.stdout}{proc.stderr}"


def test_pre_commit_hook_runs_lint():
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: peftspec-lint" in hooks
    assert "entry: peftspec lint" in hooks


def test_the_hook_lints_a_bad_spec_anywhere_and_skips_other_toml(tmp_path):
    """The hook is given every staged *.toml: a broken spec outside specs/ fails it (even one whose
    section is misspelled), pyproject.toml is skipped and counted, never linted as a spec."""
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    entry = shlex.split(next(line for line in hooks.splitlines() if "entry:" in line).split(":", 1)[1])
    assert "files:" not in hooks.split("- id:")[-1]  # no folder filter: specs may live anywhere
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "bad.toml").write_text('name = "b"\n[datset]\ntrain = "t.csv"\n')
    staged = ["pyproject.toml", "experiments/bad.toml"]
    proc = subprocess.run(
        [sys.executable, "-m", "peftspec", *entry[1:], *staged], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "experiments/bad.toml:2:1" in proc.stdout and "did you mean 'dataset'" in proc.stdout
    assert "pyproject.toml" not in proc.stdout.replace("Skipped 1 TOML file(s)", "")
    assert "Checked 1 spec file" in proc.stdout and "Skipped 1 TOML file(s) that are not specs" in proc.stdout


def test_every_command_line_argument_says_what_it_is():
    """`peftspec COMMAND --help` is the CLI's documentation: an argument without help is a gap."""
    import argparse

    from peftspec.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    bare = [
        f"{name} {action.metavar or action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert len(commands.choices) >= 16 and bare == []

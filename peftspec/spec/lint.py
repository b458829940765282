"""`peftspec lint`: check many spec files and format the findings for people, machines and CI."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from peftspec.errors import UsageError
from peftspec.spec.diagnostics import Diagnostic, format_location
from peftspec.spec.loader import LoadResult, check_spec

SKIP_DIRS = {"node_modules", "__pycache__", "site-packages"}


class NoSpecsFound(UsageError):
    """A path given to lint does not exist or holds no `.toml` files."""

    title = "no specs"


@dataclass
class LintResult:
    files: list[str] = field(default_factory=list)
    reports: list[LoadResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """TOML files left out by `specs_only` because they are not peftspec specs."""

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem once: one in a base spec is not repeated for each spec that extends it."""
        return list(dict.fromkeys(d for r in self.reports for d in r.diagnostics))

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == "warning" for d in self.diagnostics)

    def exit_code(self, strict: bool) -> int:
        return 1 if self.errors or (strict and self.warnings) else 0


def find_specs(paths: Iterable[str]) -> list[str]:
    """Spec files named by `paths`: files as given, folders searched recursively for `*.toml`."""
    found: list[str] = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            matches = sorted(_walk_toml(path))
            if not matches:
                raise NoSpecsFound(f"no .toml spec files under {path}")
            found += matches
        else:
            raise NoSpecsFound(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def _walk_toml(root: str) -> Iterable[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
        yield from (os.path.join(folder, f) for f in files if f.endswith(".toml"))


def is_spec_file(path: str) -> bool:
    """Whether a TOML file is meant as a peftspec spec: a top-level key is a spec section or
    `extends`, or close to one (`[datset]`), so that a misspelled spec is still linted. A file that
    does not parse counts as a spec (lint then says where it breaks); `pyproject.toml`, `ruff.toml`
    and the like do not."""
    import tomllib

    from peftspec.spec.diagnostics import did_you_mean
    from peftspec.spec.root import Spec

    sections = [k for k in Spec.model_fields if k not in ("name", "description", "schema_version")]
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    return any(key in sections or did_you_mean(key, sections) for key in data)


def lint(paths: Sequence[str], overrides: Sequence[str] = (), specs_only: bool = False) -> LintResult:
    """Lint every spec `paths` name; with `specs_only`, TOML files that are not specs are skipped
    (and counted), so a hook can pass every staged `*.toml`."""
    files = find_specs(paths)
    skipped = [f for f in files if not is_spec_file(f)] if specs_only else []
    files = [f for f in files if f not in skipped]
    return LintResult(files, [check_spec(f, overrides) for f in files], skipped)


def checked_spec(path: str, overrides: Sequence[str] = (), stream=None, color: bool = False) -> LoadResult:
    """The spec at `path` with `overrides`, checked: its warnings are printed to `stream` (stderr
    by default) as `lint` prints them, and an invalid spec raises `SpecError`."""
    import sys

    from peftspec.spec.diagnostics import SpecError

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such spec file")
    result = check_spec(path, overrides)
    if result.spec is None:
        raise SpecError(result.diagnostics, file=path)
    if result.diagnostics:
        print(as_text(LintResult([path], [result]), color), file=stream or sys.stderr)
    return result


# -- output formats ---------------------------------------------------------------------------


def as_json(result: LintResult) -> str:
    return json.dumps(
        {
            "files": len(result.files),
            "errors": result.errors,
            "warnings": result.warnings,
            "diagnostics": [d.as_dict() for d in result.diagnostics],
        },
        indent=2,
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with control characters written as escapes: a key or value in a spec cannot move the
    cursor, clear the screen or forge a line of output."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def as_github(result: LintResult) -> str:
    """GitHub Actions workflow commands: each problem becomes an annotation on the file."""
    return printable(_as_github(result))


def _as_github(result: LintResult) -> str:
    lines = []
    spec_of = {d: r.file for r in reversed(result.reports) for d in r.diagnostics}
    for d in result.diagnostics:
        # an override's problem is annotated on the spec it was applied to
        props = [f"file={_prop(spec_of[d] if d.file.startswith('--set') else d.file)}"]
        if d.line is not None:
            props.append(f"line={d.line}")
        if d.column is not None:
            props.append(f"col={d.column}")
        props.append(f"title={_prop(f'peftspec {d.code}')}")
        lines.append(f"::{d.severity} {','.join(props)}::{_data(_sentence(d))}")
    lines.append(_summary(result))
    return "\n".join(lines)


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _sentence(d: Diagnostic) -> str:
    text = f"{d.path}: {d.message}" if d.path else d.message
    if d.suggestion:
        text += f" (did you mean {d.suggestion!r}?)"
    if d.file.startswith("--set"):
        text += f" [from {d.file}]"
    return text


def as_text(result: LintResult, color: bool = False) -> str:
    """The problems for a terminal: location, severity and code, the line quoted, the suggestion."""
    return _as_text(result, color)


def _as_text(result: LintResult, color: bool) -> str:
    style = _Style(color)
    out = []
    for d in result.diagnostics:
        sev = style.red("error") if d.severity == "error" else style.yellow("warning")
        head = f"{style.bold(printable(format_location(d)))}: {sev}[{d.code}]"
        message, path = printable(d.message), printable(d.path)
        out.append(f"{head} {style.bold(path)}: {message}" if d.path else f"{head} {message}")
        out += _snippet(d, style)
        if d.suggestion:
            out.append(f"  {style.cyan('help')}: did you mean {printable(repr(d.suggestion))}?")
    out.append(_summary(result))
    return "\n".join(out)


def _snippet(d: Diagnostic, style: _Style) -> list[str]:
    if d.line is None or not d.file.endswith(".toml") or not os.path.isfile(d.file):
        return []
    try:
        with open(d.file, encoding="utf-8") as fh:
            text = next(itertools.islice(fh, d.line - 1, None), None)
    except (OSError, UnicodeDecodeError):
        return []
    if text is None:
        return []
    text = printable(text.rstrip("\r\n"))
    gutter = " " * len(str(d.line))
    caret = " " * ((d.column or 1) - 1) + "^"
    return [f"  {gutter} |", f"  {d.line} | {text}", f"  {gutter} | {style.red(caret)}"]


def _summary(result: LintResult) -> str:
    files = len(result.files)
    skipped = f" Skipped {len(result.skipped)} TOML file(s) that are not specs." if result.skipped else ""
    return (
        f"Checked {files} spec file{'s' * (files != 1)}: "
        f"{result.errors} error{'s' * (result.errors != 1)}, "
        f"{result.warnings} warning{'s' * (result.warnings != 1)}.{skipped}"
    )


class _Style:
    def __init__(self, color: bool):
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def red(self, text: str) -> str:
        return self._wrap("1;31", text)

    def yellow(self, text: str) -> str:
        return self._wrap("1;33", text)

    def cyan(self, text: str) -> str:
        return self._wrap("1;36", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

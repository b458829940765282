"""Diagnostics: one problem found in a spec, with where it is and how to fix it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from peftspec.errors import UserError

Severity = Literal["error", "warning"]
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    """Where something was written: a file (or an override) and a 1-based line and column."""

    file: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a spec. `line` and `column` are 1-based, None only when no place exists."""

    file: str
    line: int | None
    column: int | None
    path: str
    severity: Severity
    code: str
    message: str
    suggestion: str | None = None

    @classmethod
    def at(
        cls,
        where: Location,
        path: KeyPath | str,
        severity: Severity,
        code: str,
        message: str,
        suggestion: str | None = None,
    ) -> Diagnostic:
        """A diagnostic at the place `where` a key or value was written (`path` dotted or a tuple)."""
        key = path if isinstance(path, str) else dotted(path)
        return cls(where.file, where.line, where.column, key, severity, code, message, suggestion)

    def as_dict(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.column or 0, self.path, self.code)


class SpecError(UserError):
    """A spec could not be loaded. Holds every problem found, not just the first; commands print
    them as `peftspec lint` does."""

    title = "The spec is not valid"

    def __init__(self, diagnostics: Sequence[Diagnostic], file: str | None = None):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.file = file
        super().__init__(self._summary())

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def _summary(self) -> str:
        lines = [f"{len(self.errors)} problem(s) in spec:"]
        lines += [
            f"  {format_location(d)}: {d.path or '<root>'}: {d.message}"
            + (f" (did you mean {d.suggestion!r}?)" if d.suggestion else "")
            for d in self.errors
        ]
        return "\n".join(lines)


def format_location(d: Diagnostic) -> str:
    where = d.file
    if d.line is not None:
        where += f":{d.line}"
        if d.column is not None:
            where += f":{d.column}"
    return where


def dotted(path: KeyPath) -> str:
    """`("dataset", "train", 0)` -> `dataset.train[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _normalise(word: str) -> str:
    return word.lower().replace("-", "_")


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelled word, or None when nothing is close."""
    choices = list(choices)
    by_norm = {_normalise(c): c for c in choices}
    if _normalise(word) in by_norm:
        return by_norm[_normalise(word)]
    match = difflib.get_close_matches(_normalise(word), list(by_norm), n=1, cutoff=0.6)
    return by_norm[match[0]] if match else None


ALLOW = re.compile(r"#\s*peftspec:\s*allow\[([a-z0-9_,\s-]+)\]")
"""A comment on a warning's line that accepts it on purpose: `# peftspec: allow[code, ...]`."""


def allowed(d: Diagnostic) -> bool:
    """`d` is a warning that its own line allows (errors cannot be allowed)."""
    if d.severity != "warning" or d.line is None or not d.file.endswith(".toml"):
        return False
    try:
        with open(d.file, encoding="utf-8-sig") as handle:
            line = next((text for number, text in enumerate(handle, 1) if number == d.line), "")
    except (OSError, UnicodeDecodeError):
        return False
    found = ALLOW.search(line)
    return found is not None and d.code in {c.strip() for c in found.group(1).split(",")}

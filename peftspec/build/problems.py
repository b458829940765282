"""Data problems found before any model is loaded: where (file, column, row) and what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from peftspec.errors import UserError


@dataclass(frozen=True)
class DataProblem:
    severity: Literal["error", "warning"]
    file: str
    message: str
    column: str | None = None
    row: int | None = None
    """1-based data row (the header row not counted); in a workbook, the sheet's own row number."""

    def __str__(self) -> str:
        where = self.file
        if self.column is not None:
            where += f", column {self.column!r}"
        if self.row is not None:
            where += f", row {self.row}"
        return f"{where}: {self.message}"


class DataError(UserError):
    """The data cannot be used; holds every problem found (errors and warnings), each located."""

    def __init__(self, problems: list[DataProblem]):
        self.data_problems = problems
        errors = [p for p in problems if p.severity == "error"]
        self.title = f"The data cannot be used ({len(errors)} problem(s))"
        super().__init__(problems=[f"{p.severity}: {p}" for p in problems])

    @property
    def errors(self) -> list[DataProblem]:
        return [p for p in self.data_problems if p.severity == "error"]


def rows_hint(rows: list[int], total: int) -> str:
    """`row 17` or `rows 17, 40, 41 and 12 more`."""
    shown = ", ".join(str(r) for r in rows[:3])
    more = f" and {total - 3} more" if total > 3 else ""
    return f"row{'s' if total > 1 else ''} {shown}{more}"


def missing_column(
    file: str, column: str, present: list[str], before: str = "", after: str = ""
) -> DataProblem:
    """The error for a column `file` lacks, with the closest of the columns `present` and all of
    them: `{before}no column 'body' (did you mean 'bdy'?); columns: bdy, q{after}`."""
    import json

    from peftspec.spec.diagnostics import did_you_mean

    split = [sep for sep in (";", "|", "\t", ",") if len(present) == 1 and sep in present[0]]
    spaced = next((c for c in present if c.strip() == column.strip() and c != column), None)
    near = None if split or spaced else did_you_mean(column, present)
    guess = f" (did you mean {near!r}?)" if near else ""
    if spaced is not None and column != column.strip():
        guess = f" (the name asked for has spaces around it; the header has {spaced!r})"
    elif spaced is not None:  # invisible in a spreadsheet: say where the spaces are
        ends = ("before", spaced.lstrip()), ("after", spaced.rstrip())
        where = " and ".join(side for side, cut in ends if cut != spaced)
        guess = f" (the header has {spaced!r}, with a space {where} the name: remove it from the file, "
        guess += "or name the column so)"
    message = f"{before}no column {column!r}{guess}; columns: {', '.join(present)}{after}"
    if split:  # one column whose name holds the real ones: another separator
        setting = f"dataset.reader.separator = {json.dumps(split[0])}"
        message += f"; the header looks separated by {split[0]!r}: set {setting}"
    return DataProblem("error", file, message, column)

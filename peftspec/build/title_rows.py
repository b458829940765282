"""A title or notes above a spreadsheet's table ("Customer feedback, batch 3", a blank row, then the
header), which `dataset.reader.skip_rows` skips. Told by the shape of the first rows: rows of at
most one value above a row of several values that the next row matches. `init --data` sets
`skip_rows` from it; a file read without it, whose columns come out unnamed, is refused with it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peftspec.build.problems import DataError, DataProblem
from peftspec.spec.reader import ReaderOptions

LOOK = 30
"""How many of the first rows are looked at."""
UNNAMED = re.compile(r"|_duplicated_\d+|__UNNAMED__\d+")
"""The names polars and fastexcel give a column whose header cell is empty (or repeats one)."""


def check_table_start(
    head: Callable[[], list[list[Any]]],
    columns: list[str] | None,
    reader: ReaderOptions,
    path: str,
    setting: str,
    unit: str = "line",
) -> None:
    """Refuse a file whose table does not start where `reader` starts it: `skip_rows` that would
    skip a row of the table, or (none set) a title above the table, told when the columns read
    from the first row (`columns`; None: the file could not be read from it) are mostly unnamed.
    `head()`: the file's first rows (`unit`s: a CSV's lines, a sheet's rows) from its first;
    `setting`: how the user sets `skip_rows` (`dataset.reader.skip_rows = {}`, or a flag)."""
    if reader.skip_rows:
        row = skipped_table_row(head(), reader.skip_rows)
        if row is not None:
            raise DataError([skipped_problem(path, row, reader.skip_rows, setting, unit)])
    elif reader.header_row() and (columns is None or mostly_unnamed(columns)):
        found = find_title_rows(head())
        if found is not None:
            raise DataError([title_problem(path, found, setting, unit)])


@dataclass(frozen=True)
class TitleRows:
    skip: int
    """Rows (lines, blank ones included) above the header: what `skip_rows` should say."""
    title: str
    """The first of them that has a value."""
    header: list[str]
    """The header row's values."""

    @property
    def shown_title(self) -> str:
        """The title as messages quote it: at most 60 characters."""
        return self.title if len(self.title) <= 60 else self.title[:57] + "..."


def find_title_rows(rows: list[list[Any]]) -> TitleRows | None:
    """The title rows above the table in these first rows of a file or sheet, or None when its
    first row with a value has several (the header) or no later row has several."""
    filled = [[str(v).strip() for v in row if v is not None and str(v).strip()] for row in rows[:LOOK]]
    start = next((i for i, values in enumerate(filled) if values), None)
    if start is None or len(filled[start]) > 1:
        return None
    header = next((i for i in range(start + 1, len(filled)) if len(filled[i]) >= 2), None)
    if header is None:
        return None
    following = next((values for values in filled[header + 1 :] if values), None)
    if following is not None and len(following) < 2:  # a lone line with a comma, not a table
        return None
    return TitleRows(header, filled[start][0], filled[header])


def skipped_table_row(rows: list[list[Any]], skip: int) -> int | None:
    """The first of the `skip` rows skipped (0-based) that looks like part of the table (as many
    values as the header below, and two or more): a file without the title that `skip_rows` was
    set for, whose header and first rows would be lost. None when every skipped row is a title,
    notes or blank."""
    filled = [sum(1 for v in row if v is not None and str(v).strip()) for row in rows[:LOOK]]
    header = next((n for n in filled[skip:] if n), None)
    if header is None:  # the header is past the rows looked at: nothing to compare with
        return None
    return next((i for i, n in enumerate(filled[:skip]) if n >= max(2, header)), None)


def skipped_problem(path: str, row: int, skip: int, setting: str, unit: str = "line") -> DataProblem:
    """The error for `skip_rows` that would skip a table row (`row`, 0-based) of this file: said
    with the setting (`dataset.reader.skip_rows = {}`, or a command's flag) that reads it whole."""
    return DataProblem(
        "error",
        path,
        f"skipping {skip} {unit}(s) (skip_rows) would skip {unit} {row + 1}, which holds as many values as "
        f"the table's header: this file has no title above its table; read it with {setting.format(0)} "
        f"(a spec's skip_rows applies to every file it reads: give them the same layout)",
    )


def delimited_head(real: str, reader: ReaderOptions, separator: str) -> list[list[str]]:
    """The first rows of a CSV or TSV file, split as `reader` splits them."""
    import csv
    import io
    import itertools

    from peftspec.build.compressed import open_data

    with open_data(real) as fh:
        head = fh.read(1 << 16)
    encoding = {"utf8": "utf-8-sig", "utf8-lossy": "utf-8-sig", "utf16": "utf-16"}.get(reader.encoding)
    text = head.decode(encoding or reader.encoding, errors="replace")
    quoting = {"quotechar": '"'} if reader.quoting else {"quoting": csv.QUOTE_NONE}
    return list(itertools.islice(csv.reader(io.StringIO(text), delimiter=separator, **quoting), LOOK))


def mostly_unnamed(columns: list[str]) -> bool:
    """Whether most columns came out without a name: the header row read is not the table's."""
    return sum(bool(UNNAMED.fullmatch(c)) for c in columns) * 2 > len(columns)


def title_problem(path: str, found: TitleRows, setting: str, unit: str = "line") -> DataProblem:
    """The error for a file read from its first row whose table starts lower: where its header is
    (a `unit`: a CSV's line, a sheet's row), and the setting (`dataset.reader.skip_rows = {}`, or a
    command's flag) that skips what is above it."""
    header = ", ".join(repr(v) for v in found.header[:6]) + (" ..." if len(found.header) > 6 else "")
    message = (
        f"the table's header ({header}) is {unit} {found.skip + 1}, below a title or notes "
        f"({found.shown_title!r}): set {setting.format(found.skip)} to skip the {unit}s above it"
    )
    return DataProblem("error", path, message)

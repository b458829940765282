"""Excel and OpenDocument workbooks: their sheets, the sheets named as splits, and one sheet's rows
numbered as the spreadsheet numbers them (so that "row 7" in a message is the row a user scrolls to)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from peftspec.build.problems import DataError, DataProblem
from peftspec.build.title_rows import LOOK, check_table_start
from peftspec.spec.dataset import SPLIT_WORDS
from peftspec.spec.reader import ReaderOptions

if TYPE_CHECKING:
    import polars as pl

UNNAMED = re.compile(r"__UNNAMED__\d+")
"""fastexcel's name for a column whose header cell is empty."""


def sheet_names(real: str) -> list[str]:
    """The names of a workbook's sheets, in order."""
    import fastexcel

    return fastexcel.read_excel(real).sheet_names


def split_sheets(sheets: list[str]) -> dict[str, str]:
    """The sheets named as splits (a word of the name, `SPLIT_WORDS`: `Train`, `training data`,
    `Dev`, `test_set`), the first of each split's."""
    found: dict[str, str] = {}
    for sheet in sheets:
        parts = set(re.split(r"[^a-z0-9]+", sheet.lower()))
        split = next((split for split, names in SPLIT_WORDS.items() if parts & set(names)), None)
        if split is not None:
            found.setdefault(split, sheet)
    return found


def sheet_head(real: str, sheet: str | None) -> list[tuple]:
    """The first rows of a workbook's sheet (`sheet`, else its first) as they are, from row 1."""
    import fastexcel

    book = fastexcel.read_excel(real)
    return _grid(book, sheet or book.sheet_names[0], LOOK).rows()


def _grid(book, sheet: str, rows: int | None = None) -> pl.DataFrame:
    """A sheet's cells as text, row by row from row 1 (the first `rows` only, when given)."""
    return book.load_sheet(sheet, header_row=None, skip_rows=0, n_rows=rows, dtypes="string").to_polars()


def read_sheet(
    real: str,
    path: str,
    reader: ReaderOptions,
    settings: dict[str, str],
    row_column: str,
    split: str | None = None,
) -> pl.DataFrame:
    """One sheet of a workbook (`reader.sheet`, else the first), every cell as text (`5.0` reads
    `5`, TRUE `true`), with each row's number in the sheet (1 is the sheet's first row, as Excel
    shows it) in `row_column`. The header is the first row with a value (unless the reader has
    none); rows with no value are skipped, as blank lines of a CSV are, and so are columns with
    neither a header nor a value; `reader.skip_rows` rows above the header are skipped, and a
    sheet with a title above its table is refused with the `skip_rows` that reads it. `settings`
    say how the user sets a reader option (`reader.sheet = '{}'`; a command's flag)."""
    try:
        import fastexcel
    except ImportError:
        raise _problem(
            path,
            "reading an Excel workbook needs fastexcel, which is not installed: pip install fastexcel "
            "(the 'train' extra includes it)",
        ) from None
    try:
        return _read(fastexcel, real, path, reader, settings, row_column, split)
    except fastexcel.FastExcelError as exc:  # not a workbook (a CSV named .xlsx), or a damaged one
        first = str(exc).strip().splitlines()[0][:200]
        raise _problem(
            path,
            f"cannot read as a workbook ({first}); if it is really a CSV or TSV file, give it that extension",
        ) from None


def _read(fastexcel, real, path, reader, settings, row_column, split) -> pl.DataFrame:
    import polars as pl

    setting = settings["sheet"]
    book = fastexcel.read_excel(real)
    sheets = book.sheet_names
    if reader.sheet is not None and reader.sheet not in sheets:
        from peftspec.spec.diagnostics import did_you_mean

        hint = did_you_mean(reader.sheet, sheets)
        raise _problem(
            path,
            f"{setting.format(reader.sheet)} is not a sheet of this workbook"
            f"{f' (did you mean {hint!r}?)' if hint else ''}; its sheets: {', '.join(map(repr, sheets))}",
        )
    sheet = reader.sheet or sheets[0]
    grid = _grid(book, sheet)
    values = grid.columns
    head = grid.head(LOOK)
    grid = grid.with_row_index(row_column, offset=1).slice(reader.skip_rows)
    filled = grid.select(pl.any_horizontal(pl.col(values).is_not_null())).to_series() if values else None
    first = filled.arg_true() if filled is not None else []
    top = int(first[0]) if len(first) and reader.header_row() else None  # the header's row in `grid`
    names = header_names(grid.row(top)[1:]) if top is not None else values
    check_table_start(head.rows, names, reader, path, settings["skip_rows"], "row")
    if top is not None:
        grid = grid.slice(top + 1)
        grid.columns = [row_column, *names]
    values = [c for c in grid.columns if c != row_column]
    frame = grid.filter(pl.any_horizontal(pl.col(values).is_not_null())) if values else grid.clear()
    if reader.header_row():
        empty = [c for c in values if UNNAMED.fullmatch(c) and frame[c].null_count() == frame.height]
        frame = frame.drop(empty)
    if frame.height == 0 and reader.sheet is None and len(sheets) > 1:
        suggested = split_sheets(sheets[1:]).get(split or "", sheets[1])  # a split's own: its sheet
        raise _problem(
            path,
            f"the workbook's first sheet, {sheets[0]!r}, has no rows; name the sheet that holds them "
            f"({setting.format(suggested)}): one of {', '.join(map(repr, sheets[1:]))}",
        )
    if reader.column_names is not None:
        width, named = frame.width - 1, len(reader.column_names)
        if named != width:
            raise _problem(path, f"dataset.reader.column_names names {named} columns; the sheet has {width}")
        frame.columns = [row_column, *reader.column_names]
    return frame.select(pl.exclude(row_column), pl.col(row_column).cast(pl.Int64))


def header_names(cells: tuple) -> list[str]:
    """Column names from a header row's cells, as fastexcel names them: an empty cell
    `__UNNAMED__<position>`, a repeated name `<name>_1`, `<name>_2`, ..."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for j, cell in enumerate(cells):
        name = f"__UNNAMED__{j}" if cell is None or cell == "" else str(cell)
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _problem(path: str, message: str) -> DataError:
    return DataError([DataProblem("error", path, message)])

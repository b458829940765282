"""A data file's columns as `peftspec init --data` sees them: read as a run would read it (with
the reader options it turns out to need: literal quotes, no header row), each column's first rows
typed (lists, 0/1, numbers, free text)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from peftspec.build.encodings import decode, sniff
from peftspec.build.json_files import json_rows_key, label_studio_tasks
from peftspec.build.labels import ONE_HOT_VALUES
from peftspec.build.problems import DataError
from peftspec.build.tables import (
    FILE_COL,
    ROW_COL,
    file_format,
    local_path,
    read_file,
)
from peftspec.build.workbooks import sheet_names, split_sheets
from peftspec.errors import UserError
from peftspec.spec.dataset import SPLIT_WORDS as SPLIT_NAMES
from peftspec.spec.reader import ReaderOptions

if TYPE_CHECKING:
    import polars as pl

SAMPLE = 5000
"""Rows of each column looked at."""
SPLIT_WORDS = {split: words for split, words in SPLIT_NAMES.items() if split != "train"}
"""What names the validation and test data: a file named as the training file with `train`
replaced, or a Hub dataset's split (the first of these it has)."""
BINARY = set(ONE_HOT_VALUES)
"""What a one-hot label column's cells may say (case aside)."""
UNNAMED = "column_{}"
"""How the columns of a file without a header row are named while their roles are guessed."""


class GuessError(UserError):
    """The data file cannot be read, or has no column that can be the text or the labels."""

    title = "Cannot guess the data's shape"


@dataclass
class Column:
    name: str
    values: list[Any]
    """Non-null values of the first rows, as read."""
    is_list: bool = False
    nested: bool = False
    """A list of records (or of lists): neither a text nor labels."""
    few: frozenset[str] | None = None
    """All the column's distinct values (stripped, lower case) when there are at most a dozen."""

    @property
    def strings(self) -> list[str]:
        return [str(v).strip() for v in self.values]

    @property
    def binary(self) -> bool:
        seen = {s.lower() for s in self.strings}
        return bool(self.values) and not self.is_list and seen <= BINARY

    @property
    def numeric(self) -> bool:
        try:
            [float(s) for s in self.strings]
        except ValueError:
            return False
        return not self.is_list

    @property
    def unnamed(self) -> bool:
        """A column of a file without a header row, named here by its place (`column_N`)."""
        return bool(re.fullmatch(UNNAMED.format(r"\d+"), self.name))

    @property
    def mean_length(self) -> float:
        return sum(map(len, self.strings)) / max(len(self.values), 1)

    @property
    def distinct(self) -> int:
        return len(set(self.strings))


def read_columns(data: str, notes: list[str]) -> tuple[dict[str, Any], int, list[Column]]:
    """(the reader options the file needs, its rows, its columns); what was found is said in `notes`."""
    reader, frame = _read(data, notes)
    if frame.height < 2:
        raise GuessError(f"{data} has {frame.height} data row(s): too few to guess from")
    return reader, frame.height, columns_of(frame)


def _read(data: str, notes: list[str]) -> tuple[dict[str, Any], pl.DataFrame]:
    """The file as read, and the reader options it needs (none: the defaults)."""
    try:
        fmt = file_format(data, ReaderOptions())
    except DataError as exc:
        raise GuessError(str(exc)) from None
    from peftspec.build.compressed import read_data

    raw = read_data(local_path(data)) if fmt not in ("parquet", "excel", "arrow") else b""
    base: dict[str, Any] = {}
    if found := sniff(raw):
        base = {"encoding": found[0]}
        notes.append(f"reader: encoding {found[0]} ({found[1]})")
    text = decode(raw, base.get("encoding", "utf8-lossy"))
    base |= _separator(text, fmt, notes) if fmt in ("csv", "tsv") else {}
    if fmt == "excel":
        base |= _sheet(data, notes)
    base |= _title_rows(data, fmt, base, notes)
    if fmt == "json" and label_studio_tasks(local_path(data), base.get("encoding", "utf8")) is not None:
        notes.append(
            "reader: Label Studio's export: a row per task, its data as `data.*`, each classification "
            "control a column (the ground-truth annotation, else the first not cancelled)"
        )
    if fmt == "json" and (under := json_rows_key(local_path(data))):
        base |= {"field": under}
        notes.append(f"reader: the file is one JSON object; its rows are the list under {under!r}")
    attempts: list[dict[str, Any]] = [base, {**base, "quoting": False}] if fmt in ("csv", "tsv") else [base]
    read: list[tuple[dict[str, Any], pl.DataFrame]] = []
    failed = None
    for options in attempts:
        try:
            read.append((options, read_file(data, ReaderOptions(**options).for_split("train"))))
        except DataError as exc:
            failed = exc
    if not read:
        raise GuessError(str(failed)) from None
    if len(read) == 2:
        lines = _data_lines(text)
        quoted, literal = read[0][1].height, read[1][1].height
        if quoted != lines and literal == lines and read[1][1].width >= read[0][1].width:
            notes.append(
                f'reader: quotes are literal text ({literal} rows, one a line; with `"` as a quote '
                f"character {quoted})"
            )
            return read[1]
    if len(read) == 1 and read[0][0].get("quoting") is False:
        notes.append('reader: quotes are literal text (with `"` as a quote character it cannot be read)')
    options, frame = read[0]
    header = [c for c in frame.columns if c not in (FILE_COL, ROW_COL)]
    if fmt in ("csv", "tsv") and any(_data_like(c) for c in header):
        options = {**options, "column_names": [UNNAMED.format(i) for i in range(1, len(header) + 1)]}
        frame = read_file(data, ReaderOptions(**options))
        shown = next(c for c in header if _data_like(c))
        notes.append(f"reader: no header row (the first row has {shown!r} where a column name would be)")
    return options, frame


def _title_rows(data: str, fmt: str, base: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """`{"skip_rows": N}` when a title or notes sit above the table (a spreadsheet's export); said."""
    from peftspec.build.title_rows import delimited_head, find_title_rows
    from peftspec.build.workbooks import sheet_head

    reader = ReaderOptions(**base).for_split("train")
    try:
        if fmt in ("csv", "tsv"):
            head = delimited_head(local_path(data), reader, reader.delimiter(fmt))
        elif fmt == "excel":
            head = sheet_head(local_path(data), reader.sheet)
        else:
            return {}
    except Exception:  # unreadable: reading it says why
        return {}
    found = find_title_rows(head)
    if found is None:
        return {}
    unit = "row" if fmt == "excel" else "line"
    notes.append(
        f"reader: the table's header is {unit} {found.skip + 1}, below a title or notes "
        f"({found.shown_title!r}): skip_rows = {found.skip}"
    )
    return {"skip_rows": found.skip}


def _sheet(data: str, notes: list[str]) -> dict[str, Any]:
    """`{"sheet": ...}` when a workbook's rows are not on its first sheet: one sheet per split when
    sheets are named as splits (`Train`, `Dev`, `Test`, `test set`; the training rows on the sheet
    so named, else on the other sheet with the most rows), else the sheet with the most rows; said."""
    try:
        sheets = sheet_names(local_path(data))
    except Exception:  # not a workbook, or fastexcel missing: reading it says which
        return {}
    if len(sheets) < 2:
        return {}
    rows = {}
    for sheet in sheets:
        try:
            rows[sheet] = read_file(data, ReaderOptions(sheet=sheet)).height
        except DataError:
            rows[sheet] = 0
    named = split_sheets([sheet for sheet in sheets if rows[sheet]])
    if set(named) - {"train"}:
        others = [sheet for sheet in sheets if sheet not in named.values()]
        named.setdefault("train", max(others, key=lambda sheet: rows[sheet], default=None))
        if named["train"] is not None and rows[named["train"]]:
            mapping = {split: named[split] for split in ("train", *SPLIT_WORDS) if split in named}
            shown = ", ".join(f"{split} {sheet!r} ({rows[sheet]} rows)" for split, sheet in mapping.items())
            notes.append(f"reader: one sheet per split: {shown}")
            return {"sheet": mapping}
    best = max(sheets, key=lambda sheet: rows[sheet])  # ties: the first
    if best == sheets[0]:
        return {}
    counts = ", ".join(f"{sheet!r} {rows[sheet]}" for sheet in sheets)
    notes.append(f"reader: sheet {best!r}, the one with the most rows ({counts})")
    return {"sheet": best}


def _separator(text: str, fmt: str, notes: list[str]) -> dict[str, Any]:
    """`{"separator": ...}` when the header line (of the file's `text`) has none of the format's
    own separator but one of `;` (spreadsheets in much of Europe) or `|`; otherwise nothing."""
    first = text.split("\n", 1)[0]
    own = "\t" if fmt == "tsv" else ","
    if own in first:
        return {}
    for separator in (";", "|", "\t" if fmt == "csv" else ","):
        if separator in first:
            notes.append(f"reader: fields separated by {separator!r}")
            return {"separator": separator}
    return {}


def _data_like(name: str) -> bool:
    """A header cell that reads as data: numbers (`27`, `0,3`) or a sentence. (An empty one is
    pandas' index column, not data.)"""
    return bool(name.strip()) and (bool(re.fullmatch(r"[\d\s.,;|+-]+", name)) or len(name.split()) >= 3)


def _data_lines(text: str) -> int:
    lines = [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]
    return max(len(lines) - 1, 0)  # the header


def columns_of(frame: pl.DataFrame) -> list[Column]:
    """The frame's columns, each with the non-empty values of its first rows (`SAMPLE`)."""
    import polars as pl

    out = []
    for name in frame.columns:
        if name in (FILE_COL, ROW_COL):
            continue
        series = frame[name].head(SAMPLE).drop_nulls()
        values = [v for v in series.to_list() if not (isinstance(v, str) and not v.strip())]
        dtype = frame.schema[name]
        nested = isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct | pl.List)
        few = None
        if dtype == pl.String and frame[name].n_unique() <= 12:  # every row, not only the first
            few = frozenset(v.strip().lower() for v in frame[name].drop_nulls().unique().to_list())
        out.append(Column(name, values, is_list=isinstance(dtype, pl.List), nested=nested, few=few))
    return out

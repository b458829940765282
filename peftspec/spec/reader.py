"""`[dataset.reader]`: how local files are read (format, separator, quoting, encoding, header,
a JSON file's rows, a workbook's sheet, one per split)."""

from __future__ import annotations

import os
from typing import Annotated, Literal, get_args

from pydantic import Discriminator, Field, Tag, model_validator

from peftspec.spec.base import Rules, SpecModel

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}
"""Compression suffix -> the Python module whose `open` reads its files (no extra package): a
compressed file is read as the file inside, its format told by the name under the suffix."""
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    **dict.fromkeys((".xlsx", ".xlsm", ".xls", ".ods"), "excel"),
}
"""File extension -> the format `format = "auto"` reads it as."""


def compression(path: str) -> str | None:
    """The compression suffix of `path` (`.gz`), or None for a plain file."""
    ext = os.path.splitext(path)[1].lower()
    return ext if ext in COMPRESSIONS else None


def inner(path: str) -> str:
    """`path` less its compression suffix: `train.jsonl.gz` -> `train.jsonl`."""
    return path[: -len(ext)] if (ext := compression(path)) else path


def auto_format(path: str) -> str | None:
    """The format `format = "auto"` reads the file `path` names as (by its extension, under a
    compression's suffix), or None when the extension says none."""
    return EXTENSIONS.get(os.path.splitext(inner(path))[1].lower())


class SplitSheets(SpecModel):
    """A workbook's sheet per split (one workbook holding train, validation and test sheets); a
    split left out reads its workbook's first sheet."""

    train: str | None = Field(default=None, min_length=1)
    """The sheet of the training rows."""
    validation: str | None = Field(default=None, min_length=1)
    """The sheet of the validation rows."""
    test: str | None = Field(default=None, min_length=1)
    """The sheet of the test rows."""


def _name_or_table(value: object) -> str:
    return "table" if isinstance(value, dict | SplitSheets) else "name"


Sheet = Annotated[
    Annotated[str, Field(min_length=1), Tag("name")] | Annotated[SplitSheets, Tag("table")],
    Discriminator(_name_or_table),
]


Encoding = Literal["utf8", "utf8-lossy", "utf16", "cp1252", "latin1"]
ENCODINGS: tuple[str, ...] = get_args(Encoding)


class ReaderOptions(SpecModel):
    """How to read local tabular files. Defaults suit CSV/TSV with a header row."""

    format: Literal["auto", "csv", "tsv", "jsonl", "json", "parquet", "excel", "arrow"] = "auto"
    """File format; `auto` infers it from the extension (`.txt` is read as TSV; `.xlsx`, `.xlsm`,
    `.xls` and `.ods` as an Excel workbook; under a compression's suffix, `.gz`, `.bz2` or `.xz`, the
    file is decompressed as it is read: `train.jsonl.gz`), and reads a folder as a split saved by
    `datasets`' `save_to_disk` (`arrow`)."""
    separator: str | None = None
    """Field separator for delimited text; unset = `,` for csv and a tab for tsv."""
    quoting: bool = True
    """Treat `"` as a quote character. Set false when quotes are literal text (SemEval E-c)."""
    encoding: Encoding = "utf8"
    """Text encoding: `utf8` (a byte-order mark is skipped); `utf16` (Excel's "Unicode Text");
    `cp1252` (CSV saved by Excel on Windows in Western Europe); `latin1`; `utf8-lossy` replaces
    invalid bytes instead of failing. A file that is not UTF-8 is refused with the likely one."""
    has_header: bool | None = None
    """Whether the first row holds column names; unset = yes, unless `column_names` is given (then
    every row is data). Set true with `column_names` to drop a header row and rename its columns."""
    skip_rows: int = Field(default=0, ge=0)
    """Rows above the header to skip: a title or notes over a spreadsheet's table (`init --data`
    finds them). Lines of a CSV or TSV file, rows of a workbook's sheet, blank ones included."""
    column_names: list[str] | None = Field(default=None, min_length=1)
    """Column names for files without a header row (GoEmotions: `["text", "labels", "id"]`)."""
    field: str | None = Field(default=None, min_length=1)
    """For `.json` files that are one object rather than a list of rows: the key holding the list
    of rows (`"data"`); files that are a list are read as they are. Unset = every file is a list."""
    sheet: Sheet | None = None
    """For Excel workbooks: the sheet holding the rows (its first row the header, unless
    `has_header = false`), or one per split when a workbook holds them all (`{ train = "Train",
    validation = "Dev", test = "Test" }`, each split naming the workbook); unset = the first sheet."""

    def for_split(self, split: str) -> ReaderOptions:
        """These options as they read `split`'s files: `sheet` that split's (None: the first)."""
        if not isinstance(self.sheet, SplitSheets):
            return self
        return self.model_copy(update={"sheet": getattr(self.sheet, split)})

    def sheet_setting(self, split: str) -> str:
        """How the spec sets the sheet that `split` reads, for messages that ask for one."""
        per_split = isinstance(self.sheet, SplitSheets)
        return f'dataset.reader.sheet{f".{split}" if per_split else ""} = "{{}}"'

    def delimiter(self, fmt: str) -> str:
        """The field separator of a `fmt` file (`csv` or `tsv`): `separator`, else the format's own."""
        return self.separator or ("\t" if fmt == "tsv" else ",")

    def header_row(self) -> bool:
        """Whether the first row of each file is a header (and so not data)."""
        return self.has_header if self.has_header is not None else not self.column_names

    @model_validator(mode="after")
    def _rules(self) -> ReaderOptions:
        rules = Rules()
        if self.has_header is False and not self.column_names:
            rules.fail("column_names", "a file without a header row needs `column_names`", code="missing-key")
        if self.separator is not None and len(self.separator) != 1:
            rules.fail("separator", f"separator must be one character, got {self.separator!r}")
        rules.raise_any()
        return self

"""`peftspec predict`: label a file (or stdin lines) and write the rows with predictions and scores."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from peftspec.build.encodings import decode
from peftspec.build.problems import DataError, missing_column
from peftspec.errors import UsageError, missing_extra
from peftspec.inference.loaded import LoadedRun, labelled_rows
from peftspec.spec.reader import ReaderOptions

if TYPE_CHECKING:
    import polars as pl

OUTPUT_FORMATS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "excel",
    ".json": "json",
}
FLAGS = {
    "encoding": "--encoding {}",
    "sheet": "--sheet '{}'",
    "skip_rows": "--skip-rows {}",
    "split": "--split {}",
}
"""How `predict` and `evaluate` are told the input's reader options (and `evaluate` which split's
rows of a file divided by the run's split column), as messages about it say."""


@dataclass
class Labelling:
    frame: pl.DataFrame
    empty_rows: list[int] = field(default_factory=list)
    """Rows whose text (or text pair) was empty, by their number in the file (a workbook's: the
    sheet's): kept in the output with no prediction."""


def read_input(
    source: str, text_column: str, encoding: str = "utf8", sheet: str | None = None, skip_rows: int = 0
) -> pl.DataFrame:
    """A file through the usual readers; a `.txt` file or `-` (standard input): one text per line;
    a hub split (`hub:ID[:CONFIG][[SPLIT]]`, the test split unless named). Text is read in
    `encoding` (`predict --encoding`); a workbook's rows from `sheet` (`--sheet`), else its first;
    `skip_rows` lines or sheet rows above the header skipped (`--skip-rows`). A file's frame keeps
    each row's number (`ROW_COL`), which `label_frame` uses and drops."""
    import polars as pl

    from peftspec.build.tables import FILE_COL, ROW_COL, read_file, read_source
    from peftspec.spec.dataset import hub_reference

    hub = hub_reference(source, split="test")
    if hub is not None:
        return read_source(hub, ReaderOptions(), None).drop(FILE_COL, ROW_COL)

    from peftspec.build.compressed import inner, read_data

    if source == "-" or (Path(inner(source)).suffix.lower() == ".txt" and Path(source).is_file()):
        data = sys.stdin.buffer.read() if source == "-" else read_data(source)
        text = _lines(data, shown(source), encoding)
        return pl.DataFrame({text_column: text}, schema={text_column: pl.String})
    frame = read_file(source, ReaderOptions(encoding=encoding, sheet=sheet, skip_rows=skip_rows), FLAGS)
    return frame.drop(FILE_COL)  # its row numbers stay, for messages: a workbook's are the sheet's


def shown(source: str) -> str:
    """An input as messages name it: the file, or standard input for `-`."""
    return "standard input" if source == "-" else source


def _lines(data: bytes, where: str, encoding: str) -> list[str]:
    from peftspec.build.file_problems import encoding_problem

    try:
        return decode(data, encoding).splitlines()
    except UnicodeDecodeError as exc:
        raise DataError([encoding_problem(data, where, encoding, FLAGS["encoding"], exc)]) from None


def check_output(path: str | None) -> None:
    """Refuse an output that cannot be written before any row is labelled."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{path} is a folder", hint="name an output file, e.g. predictions.jsonl")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent} does not exist", hint="create the folder first")
    if target.suffix.lower() not in OUTPUT_FORMATS:
        raise UsageError(
            f"cannot tell the output format of {path}", hint="name it .parquet, .csv, .jsonl, .json or .xlsx"
        )


def label_frame(
    loaded: LoadedRun,
    frame: pl.DataFrame,
    text_column: str,
    pair_column: str | None = None,
    progress=None,
    source: str = "input",
) -> Labelling:
    """Label every row of `frame` (read from `source`, as messages name it; rows numbered by its
    `ROW_COL`, else from 1)."""
    import polars as pl

    from peftspec.build.tables import ROW_COL

    numbers = frame[ROW_COL].to_list() if ROW_COL in frame.columns else range(1, frame.height + 1)
    frame = frame.drop(ROW_COL, strict=False)

    lines = frame.columns == [text_column]  # one text a line: no column can hold the pairs
    pairs_hint = (
        " (the run was trained on text pairs: give a csv, tsv, jsonl or parquet file with both)"
        if lines
        else " (the run was trained on text pairs: choose the column of second texts with --pair-column)"
    )
    wanted = [
        (text_column, " (choose one with --text-column)"),
        *([(pair_column, pairs_hint)] if pair_column else []),
    ]
    missing = [
        missing_column(shown(source), column, frame.columns, after=after)
        for column, after in wanted
        if column not in frame.columns
    ]
    if missing:
        raise DataError(missing)
    texts = _cells(frame[text_column])
    pairs = _cells(frame[pair_column]) if pair_column else None
    keep = labelled_rows(texts, pairs)
    predicted: list = [None] * len(texts)
    scores: list = [None] * len(texts)
    if keep:
        result = loaded.predict(
            [texts[i] for i in keep], [pairs[i] for i in keep] if pairs else None, progress
        )
        names = result.labels()
        for k, i in enumerate(keep):
            predicted[i] = names[k]
            scores[i] = result.scores[k].tolist()
    columns = {"predicted": predicted}
    for j, name in enumerate(loaded.label_names):
        columns[f"score_{name}"] = [None if s is None else float(s[j]) for s in scores]
    out = frame.with_columns(pl.Series(k, v, strict=False) for k, v in columns.items())
    kept = set(keep)
    return Labelling(out, [numbers[i] for i in range(len(texts)) if i not in kept])


def _cells(column: pl.Series) -> list[str]:
    return ["" if v is None else str(v) for v in column.to_list()]


def label_studio_input(source: str, encoding: str = "utf8") -> list[dict] | None:
    """The tasks of an input that is Label Studio's JSON export (None for any other input)."""
    from peftspec.build.json_files import label_studio_tasks

    if source == "-" or not source.lower().endswith(".json") or not Path(source).is_file():
        return None
    return label_studio_tasks(source, encoding)


def write_output(frame: pl.DataFrame, path: str | None, tasks: list[dict] | None = None) -> None:
    """Parquet, CSV, JSONL, JSON (a list of rows; or `tasks`, a Label Studio export's tasks with
    their predictions, when given) or an Excel workbook by the file's extension, written atomically
    (the old file or the new one, never half); JSONL on standard output without a path. CSV and
    Excel cells that hold lists or tables are written as JSON (predicted labels: joined with commas)."""
    import polars as pl

    from peftspec.runs.writer import atomic_write_bytes

    if path is None:
        for row in frame.iter_rows(named=True):
            sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return
    check_output(path)
    fmt = OUTPUT_FORMATS[Path(path).suffix.lower()]
    if fmt in ("csv", "excel"):
        nested = [c for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Struct | pl.Array)]
        frame = frame.with_columns(
            pl.col("predicted").list.join(",")
            if c == "predicted" and frame.schema[c] == pl.List(pl.String)
            else pl.Series(c, [None if v is None else json.dumps(v, default=str) for v in frame[c].to_list()])
            for c in nested
        )
    if fmt == "json":
        rows = tasks if tasks is not None else frame.to_dicts()
        atomic_write_bytes(
            Path(path), lambda fh: fh.write(json.dumps(rows, ensure_ascii=False, default=str).encode())
        )
        return
    writers = {
        "parquet": frame.write_parquet,
        "jsonl": frame.write_ndjson,
        "csv": frame.write_csv,
        "excel": lambda fh: frame.write_excel(fh, worksheet="predictions", autofit=True),
    }
    if fmt == "excel":
        try:
            import xlsxwriter  # noqa: F401
        except ImportError as exc:
            raise missing_extra(exc, "predict") from None
    atomic_write_bytes(Path(path), writers[fmt])

"""`peftspec predict`: label a file (or stdin lines) and write the rows with predictions and scores."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from peftspec.build.problems import DataError, DataProblem
from peftspec.inference.loaded import LoadedRun
from peftspec.spec.dataset import ReaderOptions

if TYPE_CHECKING:
    import polars as pl

OUTPUT_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass
class Labelling:
    frame: pl.DataFrame
    empty_rows: list[int] = field(default_factory=list)
    """1-based rows whose text was empty: kept in the output with no prediction."""


def read_input(source: str, text_column: str) -> pl.DataFrame:
    """A file through the usual readers, or `-`: one text per line on standard input."""
    import polars as pl

    from peftspec.build.tables import FILE_COL, ROW_COL, read_file

    if source == "-":
        lines = [line.rstrip("\r\n") for line in sys.stdin]
        return pl.DataFrame({text_column: lines})
    frame = read_file(source, ReaderOptions())
    return frame.drop(FILE_COL, ROW_COL)


def label_frame(
    loaded: LoadedRun, frame: pl.DataFrame, text_column: str, pair_column: str | None = None, progress=None
) -> Labelling:
    import polars as pl

    if text_column not in frame.columns:
        raise DataError(
            [
                DataProblem(
                    "error",
                    "input",
                    f"no column {text_column!r}; columns: "
                    f"{', '.join(frame.columns)} (choose one with --text-column)",
                    text_column,
                )
            ]
        )
    texts = ["" if v is None else str(v) for v in frame[text_column].to_list()]
    keep = [i for i, t in enumerate(texts) if t.strip()]
    pairs = [str(v) for v in frame[pair_column].to_list()] if pair_column else None
    result = loaded.predict([texts[i] for i in keep], [pairs[i] for i in keep] if pairs else None, progress)
    predicted: list = [None] * len(texts)
    scores: list = [None] * len(texts)
    names = result.labels()
    for k, i in enumerate(keep):
        predicted[i] = names[k]
        scores[i] = result.scores[k].tolist()
    columns = {"predicted": predicted}
    for j, name in enumerate(loaded.label_names):
        columns[f"score_{name}"] = [None if s is None else float(s[j]) for s in scores]
    out = frame.with_columns(pl.Series(k, v, strict=False) for k, v in columns.items())
    return Labelling(out, [i + 1 for i, t in enumerate(texts) if not t.strip()])


def write_output(frame: pl.DataFrame, path: str | None) -> None:
    """Parquet, CSV or JSONL by the file's extension; JSONL on standard output without a path."""
    import polars as pl

    if path is None:
        for row in frame.iter_rows(named=True):
            sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        return
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the output format of {path}: use .parquet, .csv or .jsonl")
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "jsonl":
        frame.write_ndjson(path)
    else:
        flat = (
            frame.with_columns(pl.col("predicted").list.join(","))
            if frame["predicted"].dtype == pl.List(pl.String)
            else frame
        )
        flat.write_csv(path)

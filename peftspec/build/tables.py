"""Read local tabular files (csv, tsv, jsonl, json, parquet, Excel), splits saved by `datasets`'
save_to_disk, or hub datasets into polars frames."""

from __future__ import annotations

import hashlib
import io
import os
from typing import TYPE_CHECKING

from peftspec.build.compressed import compression, inner, open_data, read_data
from peftspec.build.encodings import UTF16_MARKS, as_utf8, decode
from peftspec.build.problems import DataError, DataProblem, rows_hint
from peftspec.build.title_rows import check_table_start, delimited_head
from peftspec.spec.dataset import HubSource
from peftspec.spec.packaged import package_data_file
from peftspec.spec.paths import nearby
from peftspec.spec.reader import EXTENSIONS, ReaderOptions, SplitSheets

if TYPE_CHECKING:
    import polars as pl

FILE_COL, ROW_COL = "__file", "__row"


def local_path(path: str) -> str:
    """A data path from the spec, with `package:` references resolved to the installed file."""
    return package_data_file(path) if path.startswith("package:") else path


def file_format(path: str, reader: ReaderOptions) -> str:
    if os.path.isdir(path):  # a split saved by datasets' save_to_disk, or a mistake it explains
        return "arrow"
    ext = os.path.splitext(inner(path))[1].lower()
    if compression(path) and EXTENSIONS.get(ext) == "excel":
        raise DataError([DataProblem("error", path, "a compressed workbook: decompress it first")])
    if reader.format != "auto":
        return reader.format
    if ext not in EXTENSIONS:
        kind = f"a {ext} file" if ext else "a file without extension"
        raise DataError(
            [DataProblem("error", path, f"cannot tell the format of {kind}; set dataset.reader.format")]
        )
    return EXTENSIONS[ext]


TEXT_FORMATS = ("csv", "tsv", "jsonl", "json")
"""The formats read as text, in `reader.encoding`."""
SPEC_READER = {
    "encoding": 'dataset.reader.encoding = "{}"',
    "sheet": 'dataset.reader.sheet = "{}"',
    "skip_rows": "dataset.reader.skip_rows = {}",
}
"""How a spec sets the reader options that messages about a file may ask for."""


def read_file(
    path: str, reader: ReaderOptions, settings: dict[str, str] = SPEC_READER, split: str | None = None
) -> pl.DataFrame:
    """One local file as a frame of strings (CSV/TSV) or native values, with file and row columns;
    a message asking for a reader option says to set it as `settings` do (`predict`: its flags).
    `split`: the split whose own sheet the spec names (`reader.sheet` per split), if any."""
    import polars as pl

    real = local_path(path)
    if not os.path.isfile(real) and not os.path.isdir(real):
        near = nearby(real)
        hint = f" (did you mean {near!r}, in the same folder?)" if near else ""
        raise DataError([DataProblem("error", path, f"data file not found{hint}")])
    fmt = file_format(real, reader)
    if fmt in TEXT_FORMATS and reader.encoding == "utf8":  # polars reads UTF-16 as text with NULs
        with open_data(real) as fh:
            head = fh.read(2)
        if head.startswith(UTF16_MARKS):
            from peftspec.build.file_problems import encoding_problem

            try:
                decode(head, "utf8")
            except UnicodeDecodeError as exc:  # always: a byte-order mark is not UTF-8
                raise DataError([encoding_problem(head, path, "utf8", settings["encoding"], exc)]) from None
    try:
        if fmt in ("csv", "tsv"):
            frame = _read_delimited(real, path, fmt, reader, settings)
        elif fmt == "jsonl":
            from peftspec.build.file_problems import locate

            # polars turns a column of mixed kinds (a list here, a string there) into strings
            found = locate(real, path, fmt, ",", True, reader.encoding, True, settings["encoding"])
            if found is not None:
                raise DataError([found])
            frame = pl.read_ndjson(as_utf8(real, reader.encoding))
        elif fmt == "json":
            from peftspec.build.json_files import read_json

            frame = read_json(real, path, reader)
        elif fmt == "excel":
            from peftspec.build.workbooks import read_sheet

            frame = read_sheet(real, path, reader, settings, ROW_COL, split)
        elif fmt == "arrow":
            from peftspec.build.saved_datasets import read_saved

            frame = read_saved(real, path)
        else:
            frame = pl.read_parquet(io.BytesIO(read_data(real)) if compression(real) else real)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:  # UnicodeDecodeError too
        from peftspec.build.file_problems import locate

        found = locate(
            real,
            path,
            fmt,
            reader.delimiter(fmt),
            reader.quoting,
            reader.encoding,
            reader.header_row(),
            settings["encoding"],
            reader.skip_rows,
        )
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DataError([found or DataProblem("error", path, f"cannot read as {fmt}: {first}")]) from None
    frame = flattened(frame)
    if ROW_COL not in frame.columns:  # a workbook's rows come numbered as its sheet numbers them
        frame = frame.with_columns(pl.int_range(1, frame.height + 1).alias(ROW_COL))
    return frame.with_columns(pl.lit(path).alias(FILE_COL)).select(pl.exclude(ROW_COL), ROW_COL)


def _read_delimited(real: str, path: str, fmt: str, reader: ReaderOptions, settings: dict) -> pl.DataFrame:
    """A CSV or TSV file, every field as text; refused, with the `skip_rows` that reads it, when
    it has a title above its table (polars reads the title as the header: unnamed columns, or
    lines longer than it)."""
    import polars as pl

    separator = reader.delimiter(fmt)

    def head() -> list[list[str]]:
        return delimited_head(real, reader, separator)

    try:
        frame = pl.read_csv(
            as_utf8(real, reader.encoding),
            separator=separator,
            quote_char='"' if reader.quoting else None,
            has_header=reader.header_row(),
            new_columns=reader.column_names,
            skip_rows=reader.skip_rows,
            infer_schema=False,
        )
    except pl.exceptions.PolarsError:
        check_table_start(head, None, reader, path, settings["skip_rows"])
        raise
    check_table_start(head, frame.columns, reader, path, settings["skip_rows"])
    return frame


def flattened(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each nested record column (a JSON object in every row) replaced by its fields,
    named by their path: `{"annotation": {"label": ...}}` gives the column `annotation.label`."""
    import polars as pl

    while any(isinstance(dtype, pl.Struct) for dtype in frame.schema.values()):
        columns = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                columns += [pl.col(name).struct.field(f.name).alias(f"{name}.{f.name}") for f in dtype.fields]
            else:
                columns.append(pl.col(name))
        frame = frame.select(columns)
    return frame


def read_hub(source: HubSource, hashes: dict[str, str] | None = None) -> pl.DataFrame:
    """One split of a hub dataset. When the Hub cannot be reached it is read from the `datasets`
    cache straight away, instead of after half a minute of retries. `hashes` (when given) receives
    the sha256 of the split's Arrow files in the cache, under `source.location`."""
    import polars as pl

    where = source.location
    ds = load_hub(source.hub, source.config, source.split, source.revision, where)
    files = [f["filename"] for f in ds.cache_files]
    if hashes is not None and files:
        hashes[where] = _sha256(files)
    frame = flattened(class_names_decoded(ds))
    return frame.with_columns(pl.lit(where).alias(FILE_COL), pl.int_range(1, frame.height + 1).alias(ROW_COL))


def load_hub(hub: str, config: str | None, split: str | None, revision: str | None, where: str):
    """`datasets.load_dataset` (one split, or all of them as a `DatasetDict` when `split` is None),
    from the cache at once when the Hub is out of reach; `DataError` at `where` when it fails."""
    import contextlib

    from datasets import config as settings
    from datasets import load_dataset

    from peftspec.build.hub import cache_only, hub_unreachable

    unreachable = None if settings.HF_HUB_OFFLINE else hub_unreachable(settings.HF_ENDPOINT)
    try:
        with cache_only(settings) if unreachable else contextlib.nullcontext():
            return load_dataset(hub, config, split=split, revision=revision)
    except Exception as exc:  # datasets raises many types; the message is what matters
        if "Unknown split" in str(exc):  # the dataset was found: it has other splits
            raise DataError([DataProblem("error", where, f"the dataset has no such split: {exc}")]) from None
        if unreachable:
            message = (
                f"the Hub cannot be reached from here ({unreachable}) and the dataset is not in the "
                f"datasets cache ({settings.HF_DATASETS_CACHE}). Load it once where there is a network "
                "and copy that cache (HF_HOME) here, or save its splits as files and name them in the spec"
            )
        else:
            message = f"cannot load hub dataset: {exc}"
            if isinstance(exc, ConnectionError) or "Couldn't reach" in str(exc):
                message += (
                    ". HF_HUB_OFFLINE is set and it is not in the datasets cache "
                    f"({settings.HF_DATASETS_CACHE}): load it once where there is a network and copy "
                    "that cache (HF_HOME) here, or save its splits as files and name them in the spec"
                )
        raise DataError([DataProblem("error", where, message)]) from None


def class_names_decoded(ds) -> pl.DataFrame:
    """A `datasets` split as a frame in which a `ClassLabel` column (or a list of them) holds its
    class names, as a polars Enum that keeps every name in the dataset's order; -1, datasets'
    "no label", becomes null. Label columns then read as names, like a file's."""
    import polars as pl
    from datasets import ClassLabel

    def names(expr, feature: ClassLabel):
        indices = list(range(len(feature.names)))
        return expr.replace_strict(indices, feature.names, default=None, return_dtype=pl.Enum(feature.names))

    frame = ds.to_polars()
    decoded = []
    for column, feature in ds.features.items():
        inner = getattr(feature, "feature", None)  # List / Sequence
        if isinstance(feature, ClassLabel):
            decoded.append(names(pl.col(column), feature))
        elif isinstance(inner, ClassLabel):
            decoded.append(pl.col(column).list.eval(names(pl.element(), inner)))
    return frame.with_columns(decoded) if decoded else frame


def read_source(
    source: list[str] | HubSource,
    reader: ReaderOptions,
    limit: int | None,
    hashes: dict[str, str] | None = None,
    settings: dict[str, str] = SPEC_READER,
    split: str = "train",
) -> pl.DataFrame:
    """Split `split`'s rows: one hub split, or local files concatenated in order. `hashes` (when
    given) receives the sha256 of what was read, so a run records exactly that: each file, or the
    hub split's Arrow files (`read_hub`). Messages asking for a reader option say it as `settings`
    do. A workbook read from the split's own sheet (`reader.sheet` per split) names its rows
    `BOOK[SHEET]`, as one workbook may hold several splits."""
    import polars as pl

    if isinstance(source, HubSource):
        frame = read_hub(source, hashes)
    else:
        per_split = isinstance(reader.sheet, SplitSheets)
        if per_split:
            if settings["sheet"] == SPEC_READER["sheet"]:  # the spec's key, not a command's flag
                settings = {**settings, "sheet": reader.sheet_setting(split)}
            reader = reader.for_split(split)
        frames = [read_file(path, reader, settings, split if per_split else None) for path in source]
        if per_split and reader.sheet is not None:
            frames = [
                frame.with_columns(pl.lit(f"{path}[{reader.sheet}]").alias(FILE_COL))
                if file_format(local_path(path), reader) == "excel"
                else frame
                for path, frame in zip(source, frames)
            ]
        frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
        if hashes is not None:
            hashes.update({path: _sha256(_files_of(local_path(path))) for path in source})
    return frame.head(limit) if limit else frame


def _files_of(path: str) -> list[str]:
    """What a source's rows are read from: the file, or a saved split's Arrow files."""
    if os.path.isdir(path):
        from peftspec.build.saved_datasets import arrow_files

        return arrow_files(path)
    return [path]


def _sha256(paths: list) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def frame_problem(
    frame: pl.DataFrame, column: str, indices: list[int], message: str, fix: str | None = None
) -> DataProblem:
    """An error about rows `indices` of `frame`: the first one's file and row, and the first few rows
    of that file, as in "empty or missing text (3 rows); see rows 2, 5, 9", then how to fix it. One
    row is named once, by the problem's location."""
    file = str(frame[FILE_COL][indices[0]])
    rows = [int(frame[ROW_COL][i]) for i in indices]
    same_file = [r for i, r in zip(indices, rows) if frame[FILE_COL][i] == file]
    if len(indices) > 1:
        message += f" ({len(indices)} rows); see {rows_hint(same_file, len(same_file))}"
    return DataProblem("error", file, message + (f". {fix}" if fix else ""), column, rows[0])

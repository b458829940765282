"""Turn each label shape (one-hot columns, a delimited list, a single class) into label arrays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from peftspec.build.problems import DataError, DataProblem
from peftspec.build.tables import frame_problem
from peftspec.spec.dataset import DelimitedLabels, OneHotLabels, SingleLabel

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

LabelSpec = OneHotLabels | DelimitedLabels | SingleLabel
INFERRED = "the labels of the training data"
"""Where the label names come from when the spec declares none (`infer_names`), as messages say."""
CLASS_LABELS = "the dataset's class names"
"""Where they come from when the data names its classes (a Hub dataset's `ClassLabel`)."""
ONE_HOT_VALUES = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1, "no": 0, "yes": 1}


@dataclass
class LabelResult:
    """Labels of one split: a (rows, labels) 0/1 matrix (multi-label) or class indices."""

    values: np.ndarray | None
    problems: list[DataProblem]


def label_columns(spec: LabelSpec) -> list[str]:
    return list(spec.columns) if isinstance(spec, OneHotLabels) else [spec.column]


def declared_names(spec: LabelSpec) -> list[str] | None:
    """Label names known without reading the data (None: inferred from the training split)."""
    if isinstance(spec, OneHotLabels):
        return spec.label_names()
    if spec.names is not None:
        return list(spec.names)
    if spec.names_file is not None:
        try:
            with open(spec.names_file, encoding="utf-8") as fh:
                names = [line.strip() for line in fh if line.strip()]
        except FileNotFoundError:
            raise DataError([DataProblem("error", spec.names_file, "label names file not found")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(
                [DataProblem("error", spec.names_file, f"cannot read the label names: {exc}")]
            ) from None
        repeated = sorted({n for n in names if names.count(n) > 1})
        if not names or repeated:
            what = "holds no label names" if not names else f"lists {', '.join(map(repr, repeated))} twice"
            raise DataError([DataProblem("error", spec.names_file, f"the label names file {what}")])
        return names
    return None


def class_names(spec: LabelSpec, frame: pl.DataFrame) -> list[str] | None:
    """The class names a label column carries (a Hub dataset's `ClassLabel`, read as a polars
    Enum), in the dataset's order, classes without a training row included; None otherwise."""
    import polars as pl

    if isinstance(spec, OneHotLabels):
        return None
    dtype = frame.schema[spec.column]
    dtype = dtype.inner if isinstance(dtype, pl.List) else dtype
    return dtype.categories.to_list() if isinstance(dtype, pl.Enum) else None


def class_indices(series: pl.Series) -> pl.Series:
    """A column decoded to class names (`class_names`) as its class indices again, for specs that
    read it as indices (`values = "indices"`) or as 0/1 (one-hot); other columns as they are."""
    import polars as pl

    if isinstance(series.dtype, pl.Enum):
        return series.to_physical()
    if isinstance(series.dtype, pl.List) and isinstance(series.dtype.inner, pl.Enum):
        return series.list.eval(pl.element().to_physical())
    return series


def infer_names(spec: LabelSpec, frame: pl.DataFrame) -> list[str]:
    """Label names from the training split, sorted (numerically when all are integers)."""
    delimiter = spec.delimiter if isinstance(spec, DelimitedLabels) else None
    values = {v for cell in frame[spec.column].to_list() for v in cell_labels(cell, delimiter)}
    return name_order(values)


def name_order(values) -> list[str]:
    """Label names in the order a run gives them when the spec names none: sorted, numerically
    when a name is an integer (`2` before `10`)."""
    return sorted(values, key=lambda v: (0, int(v), "") if v.lstrip("-").isdigit() else (1, 0, v))


def lookalikes(names: list[str]) -> list[list[str]]:
    """Groups of label names that differ only in case or spacing (`Positive`, `positive`,
    `very  good` and `very good`): in inferred names, most likely one label written two ways."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(" ".join(name.casefold().split()), []).append(name)
    return [group for group in groups.values() if len(group) > 1]


def cell_labels(cell, delimiter: str | None) -> list[str]:
    """The labels in one cell: a list (jsonl, parquet), a delimited string, a list written out as
    text (a CSV cell holding `["joy", "love"]`, or `['joy', 'love']` as pandas writes a list
    column), or one value."""
    if cell is None:
        return []
    if delimiter is not None and not isinstance(cell, list | tuple):
        written = _written_list(str(cell))
        cell = cell if written is None else written
    if isinstance(cell, list | tuple):
        parts = [str(v) for v in cell]
    elif delimiter is not None:
        parts = str(cell).split(delimiter)
    else:
        parts = [str(cell)]
    return [p.strip() for p in parts if p is not None and str(p).strip()]


def _written_list(text: str) -> list | None:
    """`["joy", "love"]` (JSON) or `['joy', 'love']` (Python) as a list; None for anything else."""
    import ast
    import json

    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
            return value
    return None


def encode(
    spec: LabelSpec,
    frame: pl.DataFrame,
    names: list[str],
    multi_label: bool,
    names_from: str = "the declared labels",
) -> LabelResult:
    """Labels of `frame`; `names_from` says where `names` came from, for messages."""
    if isinstance(spec, OneHotLabels):
        return _one_hot(spec, frame, multi_label)
    return _listed(spec, frame, names, multi_label, names_from)


def _one_hot(spec: OneHotLabels, frame: pl.DataFrame, multi_label: bool) -> LabelResult:
    import numpy as np

    matrix = np.zeros((frame.height, len(spec.columns)), dtype=np.float32)
    problems = []
    for j, column in enumerate(spec.columns):
        values = class_indices(frame[column]).to_list()
        cells = [str(v).strip().lower() if v is not None else None for v in values]
        bad = [i for i, v in enumerate(cells) if v not in ONE_HOT_VALUES]
        if bad:
            problems.append(
                frame_problem(
                    frame,
                    column,
                    bad,
                    "one-hot label columns hold 0 or 1 (or true/false, yes/no), "
                    f"found {frame[column][bad[0]]!r}",
                )
            )
            continue
        matrix[:, j] = [ONE_HOT_VALUES[v] for v in cells]
    if problems:
        return LabelResult(None, problems)
    if multi_label:
        return LabelResult(matrix, [])
    counts = matrix.sum(axis=1)
    bad = [int(i) for i in np.flatnonzero(counts != 1)]
    if bad:
        return LabelResult(
            None,
            [
                frame_problem(
                    frame,
                    ", ".join(spec.columns),
                    bad,
                    f"a single-label task needs exactly one 1 per row, found {int(counts[bad[0]])}",
                )
            ],
        )
    return LabelResult(matrix.argmax(axis=1).astype(np.int64), [])


def _listed(
    spec: DelimitedLabels | SingleLabel,
    frame: pl.DataFrame,
    names: list[str],
    multi_label: bool,
    names_from: str,
) -> LabelResult:
    import numpy as np

    index = {name: i for i, name in enumerate(names)}
    if spec.values == "indices":
        index = {str(i): i for i in range(len(names))}
    delimited = isinstance(spec, DelimitedLabels)
    rows: list[list[int]] = []
    unknown: dict[str, list[int]] = {}
    empty: list[int] = []
    several: list[int] = []
    column = frame[spec.column]
    for i, cell in enumerate((class_indices(column) if spec.values == "indices" else column).to_list()):
        parts = cell_labels(cell, spec.delimiter if delimited else None)
        if not parts:
            empty.append(i)
        if not multi_label and len(parts) > 1:
            several.append(i)
        for p in parts:
            if p not in index:
                unknown.setdefault(p, []).append(i)
        rows.append([index[p] for p in parts if p in index])
    allowed = f"indices 0..{len(names) - 1}" if spec.values == "indices" else names_from
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    if spec.values == "indices":
        fix = "Correct these rows, or name as many labels as the indices need in dataset.labels.names"
    elif names_from == INFERRED:
        fix = (
            "To keep these rows, list every label in dataset.labels.names (a label no training row "
            "has cannot be learned), or correct or remove the rows"
        )
    else:
        fix = "Add it to dataset.labels.names, or correct these rows"
    problems = [
        frame_problem(frame, spec.column, where, f"label {value!r} is not one of {allowed} ({shown})", fix)
        for value, where in unknown.items()
    ]
    if empty and not delimited:
        fix = (
            "A single-label task needs a class on every row: label these rows, or remove them "
            '(or, if a row may have no label, set task = "multi_label")'
        )
        problems.append(frame_problem(frame, spec.column, empty, "no label", fix))
    if several:
        problems.append(
            frame_problem(
                frame,
                spec.column,
                several,
                "a single-label task takes one label per row, found several "
                '(set task = "multi_label" if rows may have more than one)',
            )
        )
    if problems:
        return LabelResult(None, problems)
    if multi_label:
        matrix = np.zeros((frame.height, len(names)), dtype=np.float32)
        for i, labels in enumerate(rows):
            matrix[i, labels] = 1.0
        return LabelResult(matrix, [])
    return LabelResult(np.array([r[0] for r in rows], dtype=np.int64), [])

"""The dataset section -> validated splits of texts and label arrays, before any model is loaded."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from peftspec.build.labels import (
    CLASS_LABELS,
    INFERRED,
    class_names,
    declared_names,
    encode,
    infer_names,
    label_columns,
    lookalikes,
)
from peftspec.build.overlap import conflict_warnings, overlap_warnings, text_groups
from peftspec.build.problems import DataError, DataProblem, missing_column
from peftspec.build.tables import FILE_COL, ROW_COL, SPEC_READER, frame_problem, read_source
from peftspec.spec.dataset import SPLIT_OF, SPLIT_WORDS, DatasetSpec, HubSource
from peftspec.spec.reader import ReaderOptions

if TYPE_CHECKING:
    import numpy as np
    import polars as pl


@dataclass
class Split:
    """One split, normalised: texts (and pair texts), row ids, labels."""

    name: str
    texts: list[str]
    ids: list[str]
    labels: np.ndarray
    """(rows, labels) float 0/1 for multi-label; (rows,) class indices otherwise."""
    pairs: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, indices, name: str) -> Split:
        pick = list(indices)
        return Split(
            name,
            [self.texts[i] for i in pick],
            [self.ids[i] for i in pick],
            self.labels[pick],
            [self.pairs[i] for i in pick] if self.pairs else None,
        )


@dataclass
class DataBundle:
    task: str
    label_names: list[str]
    train: Split
    validation: Split | None
    test: Split | None
    warnings: list[DataProblem] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    held_out: bool = False
    """Whether validation was taken from the training rows (a hold-out or a fold), not given."""

    def splits(self) -> list[Split]:
        return [s for s in (self.train, self.validation, self.test) if s is not None]


def load_data(spec: DatasetSpec) -> DataBundle:
    """Read and check every split; raise `DataError` with every problem found."""
    frames, problems, hashes = _read_all(spec)
    if "train" not in frames:
        raise DataError(problems)
    for name, frame in frames.items():
        problems += _check_columns(spec, name, frame)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    names = declared_names(spec.labels)
    names_from = "the declared labels"
    if names is None and spec.labels.values == "names":
        names, names_from = class_names(spec.labels, frames["train"]), CLASS_LABELS
    if names is None:
        names, names_from = infer_names(spec.labels, frames["train"]), INFERRED
        problems += _lookalike_labels(spec, frames["train"], names)
    splits: dict[str, Split] = {}
    for name, frame in frames.items():
        problems += _check_text(spec, frame)
        problems += _duplicate_ids(spec, frame)
        result = encode(spec.labels, frame, names, spec.task == "multi_label", names_from)
        problems += result.problems
        if result.values is not None:
            splits[name] = _split(spec, name, frame, result.values)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    train, validation = splits["train"], splits.get("validation")
    problems += conflict_warnings(train, _describe(spec.train), spec.text_column)
    groups = text_groups(train) if spec.stratify and spec.duplicates_together else None
    if validation is None and spec.folds is not None:
        train, validation = _fold(train, spec.folds, spec.fold, spec.split_seed, spec.stratify, groups)
    elif validation is None:
        train, validation = _hold_out(train, spec.validation_split, spec.split_seed, spec.stratify, groups)
    problems += _unused_labels(spec, frames["train"], train, names)
    sources = {"validation": spec.validation or spec.train, "test": spec.test or spec.train}
    others = [(split, _describe(sources[split.name])) for split in (validation, splits.get("test")) if split]
    problems += overlap_warnings(train, others, spec.text_column)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    held = "validation" not in splits
    return DataBundle(spec.task, names, train, validation, splits.get("test"), problems, hashes, held)


def _read_all(spec: DatasetSpec) -> tuple[dict[str, pl.DataFrame], list[DataProblem], dict[str, str]]:
    """Each split's rows, the problems reading them, and the sha256 of what was read."""
    frames: dict[str, pl.DataFrame] = {}
    problems: list[DataProblem] = []
    hashes: dict[str, str] = {}
    for name in ("train", "validation", "test"):
        source = getattr(spec, name)
        if source is None:
            continue
        divided = spec.split_column is not None and name == "train"  # its rows say their split
        try:
            frame = read_source(
                source, spec.reader, None if divided else spec.limit_for(name), hashes, split=name
            )
        except DataError as exc:
            problems += exc.data_problems
            continue
        if divided:
            parts, found = by_split_column(spec, frame)
            limits = {split: spec.limit_for(split) for split in parts}
            frames |= {
                split: part.head(limits[split]) if limits[split] else part for split, part in parts.items()
            }
            problems += found
            continue
        if frame.height == 0:
            problems.append(DataProblem("error", _describe(source), f"the {name} split has no rows"))
            continue
        frames[name] = frame
    return frames, problems, hashes


def by_split_column(
    spec: DatasetSpec, frame: pl.DataFrame
) -> tuple[dict[str, pl.DataFrame], list[DataProblem]]:
    """The training data's rows by the split its `split_column` names (`SPLIT_WORDS`, case aside);
    a row that names none is an error, as is a column that is not there or no training row."""
    column, where = spec.split_column, _describe(spec.train)
    if column not in frame.columns:
        present = [c for c in frame.columns if c not in (FILE_COL, ROW_COL)]
        return {}, [missing_column(where, column, present, before="dataset.split_column: ")]
    parts, problem = split_parts(frame, column)
    if problem is not None:
        return {}, [problem]
    if "train" not in parts:
        return {}, [
            DataProblem("error", where, f"no row's {column} says train: there is nothing to train on", column)
        ]
    if "validation" in parts and spec.folds is not None:
        message = f"folds cut the training rows into validation folds, and {column} names validation rows"
        return {}, [DataProblem("error", where, message + "; remove dataset.folds, or those rows", column)]
    return parts, []


def split_parts(frame: pl.DataFrame, column: str) -> tuple[dict[str, pl.DataFrame], DataProblem | None]:
    """`frame`'s rows by the split each one's `column` names (the splits with rows), or the problem
    with the rows that name none."""
    import polars as pl

    said = frame[column].cast(pl.String).str.strip_chars().str.to_lowercase()
    splits = said.replace_strict(SPLIT_OF, default=None, return_dtype=pl.String)
    unknown = splits.is_null().arg_true().to_list()
    if unknown:
        values = sorted({str(v) for v in frame[column].gather(unknown).to_list()})[:5]
        names = ", ".join(f"{split} ({'/'.join(words)})" for split, words in SPLIT_WORDS.items())
        message = f"{', '.join(map(repr, values))} names no split"
        return {}, frame_problem(frame, column, unknown, message, f"Each row's {column} should say {names}")
    parts = {split: frame.filter(splits == split) for split in SPLIT_WORDS}
    return {split: part for split, part in parts.items() if part.height}, None


def _describe(source) -> str:
    return f"hub:{source.hub}" if hasattr(source, "hub") else ", ".join(source)


def _check_columns(spec: DatasetSpec, split: str, frame: pl.DataFrame) -> list[DataProblem]:
    wanted = [spec.text_column, spec.text_pair_column, spec.id_column, *label_columns(spec.labels)]
    present = [c for c in frame.columns if c not in (FILE_COL, ROW_COL)]
    problems = []
    for column in (c for c in wanted if c is not None):
        if column not in frame.columns:
            file = str(frame[FILE_COL][0])
            problems.append(missing_column(file, column, present, before=f"the {split} data has "))
    return problems


def _check_text(spec: DatasetSpec, frame: pl.DataFrame) -> list[DataProblem]:
    problems = []
    for column in (spec.text_column, spec.text_pair_column):
        if column is None:
            continue
        cells = frame[column].to_list()
        wrong = [i for i, v in enumerate(cells) if v is not None and not isinstance(v, str)]
        if wrong:
            kind = type(cells[wrong[0]]).__name__
            problems.append(frame_problem(frame, column, wrong, f"text must be a string, found a {kind}"))
        bad = [i for i, v in enumerate(cells) if v is None or (isinstance(v, str) and not v.strip())]
        if bad:
            problems.append(frame_problem(frame, column, bad, "empty or missing text"))
    return problems


def _duplicate_ids(spec: DatasetSpec, frame: pl.DataFrame) -> list[DataProblem]:
    if spec.id_column is None or spec.id_column not in frame.columns:
        return []
    seen: dict[str, int] = {}
    repeated = []
    for i, value in enumerate(frame[spec.id_column].to_list()):
        if str(value) in seen:
            repeated.append(i)
        seen.setdefault(str(value), i)
    if not repeated:
        return []
    problem = frame_problem(frame, spec.id_column, repeated, "ids repeat (predictions are matched by id)")
    return [DataProblem("warning", problem.file, problem.message, problem.column, problem.row)]


def _split(spec: DatasetSpec, name: str, frame: pl.DataFrame, labels: np.ndarray) -> Split:
    texts = [str(v) for v in frame[spec.text_column].to_list()]
    pairs = [str(v) for v in frame[spec.text_pair_column].to_list()] if spec.text_pair_column else None
    if spec.id_column:
        ids = [str(v) for v in frame[spec.id_column].to_list()]
    else:
        ids = [
            f"{os.path.basename(f)}:{r}" for f, r in zip(frame[FILE_COL].to_list(), frame[ROW_COL].to_list())
        ]
    return Split(name, texts, ids, labels, pairs)


def _hold_out(train: Split, fraction: float, seed: int, stratify: bool, groups=None) -> tuple[Split, Split]:
    """`fraction` of each label's rows (`stratified_split`, the copies of a text on one side when
    `groups` says which rows they are), or of all rows at random with sklearn's
    `train_test_split(test_size=fraction, random_state=seed)` over row positions, so a hand-written
    script can reproduce the exact split."""
    import math

    from sklearn.model_selection import train_test_split

    from peftspec.build.stratify import stratified_split

    held_rows = math.ceil(fraction * len(train))
    if len(train) < 2 or held_rows >= len(train):
        raise DataError(
            [
                DataProblem(
                    "error",
                    "train",
                    f"dataset.validation_split = {fraction:g} of {len(train)} training rows leaves "
                    f"{max(len(train) - held_rows, 0)} to train on; lower it, or give dataset.validation",
                )
            ]
        )
    if stratify:
        keep, held = stratified_split(train.labels, fraction, seed, groups)
    else:
        keep, held = train_test_split(list(range(len(train))), test_size=fraction, random_state=seed)
    return train.take(keep, "train"), train.take(held, "validation")


def _fold(train: Split, folds: int, fold: int, seed: int, stratify: bool, groups=None) -> tuple[Split, Split]:
    """Fold `fold` of `folds` (`stratified_folds`, a text's copies in one fold with `groups`, or
    sklearn's `KFold(shuffle=True, random_state=seed)`) as validation, the other folds as training."""
    import numpy as np
    from sklearn.model_selection import KFold

    from peftspec.build.stratify import stratified_folds

    if len(train) < folds:
        message = f"dataset.folds = {folds} needs at least {folds} training rows; there are {len(train)}"
        raise DataError([DataProblem("error", "train", message)])
    if stratify:
        assigned = stratified_folds(train.labels, folds, seed, groups)
    else:
        assigned = np.zeros(len(train), dtype=np.int64)
        for index, (_, held) in enumerate(KFold(folds, shuffle=True, random_state=seed).split(train.texts)):
            assigned[held] = index
    held = np.flatnonzero(assigned == fold)
    return train.take(np.flatnonzero(assigned != fold), "train"), train.take(held, "validation")


def _lookalike_labels(spec: DatasetSpec, frame: pl.DataFrame, names: list[str]) -> list[DataProblem]:
    """A warning for inferred label names that differ only in case or spacing."""
    return [
        DataProblem(
            "warning",
            str(frame[FILE_COL][0]),
            f"labels {' and '.join(map(repr, group))} differ only in case or spacing, so they are "
            f"{len(group)} classes; if they are one, correct the rows (listing the labels in "
            "dataset.labels.names makes every other spelling an error)",
            label_columns(spec.labels)[0],
        )
        for group in lookalikes(names)
    ]


def _unused_labels(
    spec: DatasetSpec, frame: pl.DataFrame, train: Split, names: list[str]
) -> list[DataProblem]:
    import numpy as np

    if spec.task == "multi_label":
        counts = train.labels.sum(axis=0)
    else:
        counts = np.bincount(train.labels, minlength=len(names))
    return [
        DataProblem(
            "warning",
            str(frame[FILE_COL][0]),
            f"label {names[j]!r} has no positive example in the training split: the model cannot learn it",
            label_columns(spec.labels)[0],
        )
        for j in np.flatnonzero(counts == 0)
    ]


def load_labelled(
    spec: DatasetSpec,
    source: list[str] | HubSource,
    names: list[str],
    name: str = "evaluation",
    reader: ReaderOptions | None = None,
    settings: dict[str, str] = SPEC_READER,
    split: str | None = "test",
) -> tuple[Split, str | None]:
    """One more labelled split (files, or a hub split), read and checked like the run's own data
    (with `reader`, when given, in place of the spec's), with the run's label names; and the split
    whose rows were kept: when the spec divides its data by `split_column` and these files have
    that column, only the rows it says are `split`'s (None: every row, as when `split` is None).
    A message on choosing another split names the option as `settings["split"]` does."""
    frame = read_source(source, reader or spec.reader, None, settings=settings, split="test")
    if frame.height == 0:
        raise DataError([DataProblem("error", _describe(source), f"the {name} data has no rows")])
    column = spec.split_column
    if split is not None and column is not None and column in frame.columns:
        parts, problem = split_parts(frame, column)
        if problem is not None:
            raise DataError([problem])
        if split not in parts:
            found = ", ".join(f"{k} {v.height:,}" for k, v in parts.items())
            message = f"no row's {column} says {split} (rows by {column}: {found})"
            if "split" in settings:
                choose = settings["split"]
                message += f"; score another split's rows ({choose.format(next(iter(parts)))}) or every "
                message += f"row ({choose.format('all')})"
            raise DataError([DataProblem("error", _describe(source), message, column)])
        frame = parts[split]
    else:
        split = None
    problems = _check_columns(spec, name, frame)
    if not problems:
        problems += _check_text(spec, frame)
        result = encode(spec.labels, frame, names, spec.task == "multi_label", "the run's labels")
        problems += result.problems
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    return _split(spec, name, frame, result.values), split

"""`peftspec evaluate`: score a run on another labelled file and record it in the run directory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peftspec.build.data import load_labelled
from peftspec.errors import UsageError
from peftspec.inference.label_file import FLAGS
from peftspec.inference.loaded import LoadedRun
from peftspec.metrics.evaluation import prediction_rows
from peftspec.metrics.registry import compute
from peftspec.metrics.scoring import confusion, decide
from peftspec.runs.writer import RunWriter
from peftspec.spec.paths import NAME_PATTERN

RESERVED = ("train", "validation", "test", "thresholds", "warnings", "data", "rows", "split")
"""Names the run's own evaluation uses: an extra evaluation by one of them would be shadowed."""


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate_file` scored and recorded."""

    name: str
    metrics: dict[str, Any]
    warnings: list[str]
    rows: int
    scope: str | None = None
    """Which rows of the file were scored, when not all: `the rows whose split says test`."""


def check_name(name: str) -> str:
    """An evaluation name that is a plain file-name part and no split of the run's own."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise UsageError(
            f"{name!r} cannot name an evaluation: use letters, digits, '.', '_' and '-'",
            hint="pass --name NAME",
        )
    if name in RESERVED:
        raise UsageError(
            f"{name!r} is a split of the run's own evaluation, which `compare --split {name}` would show",
            hint=f"name this one differently, e.g. --name {name}-2",
        )
    return name


def evaluate_file(
    loaded: LoadedRun,
    data: str,
    name: str | None = None,
    console=None,
    encoding: str | None = None,
    sheet: str | None = None,
    split: str | None = None,
    skip_rows: int | None = None,
) -> Evaluation:
    """Metrics of `loaded` on labelled file `data` (or a hub split, `hub:ID[:CONFIG][[SPLIT]]`, the
    test split unless named), recorded in the run as extra evaluation `name` (default: the file's
    name, or the dataset's and split's) with its confusion matrices and predictions; a bar over the rows
    on `console`'s terminal. Also returns (and records) warnings: rows whose text the run trained
    on, which make these figures optimistic. `encoding`, `sheet` and `skip_rows` (`--encoding`,
    `--sheet`, `--skip-rows`) replace the run's reader options of those names. A file that has the
    run's `split_column` is scored on the rows it says are `split`'s (`--split`: test unless named;
    `all`: every row), and the default name says which (`all-test`); a `split` named for a run or
    file without that column is refused."""

    from peftspec.build.predict import predict
    from peftspec.build.tokenize import collator, to_dataset
    from peftspec.progress import rows_progress
    from peftspec.spec.dataset import hub_reference

    hub = hub_reference(data, split="test")
    default = f"{hub.hub.split('/')[-1]}-{hub.split}" if hub else _file_name(data)
    check_name(name or default)
    spec, task = loaded.spec, loaded.task
    given = {"encoding": encoding, "sheet": sheet, "skip_rows": skip_rows}
    reader = spec.dataset.reader.model_copy(update={k: v for k, v in given.items() if v is not None})
    column = spec.dataset.split_column
    if split is not None and column is None:
        raise UsageError(
            f"--split chooses rows by the run's dataset.split_column, and {loaded.run.name} has none",
            hint="leave --split out: every row is scored",
        )
    rows_of = None if split == "all" else (split or "test")
    labelled, kept = load_labelled(
        spec.dataset, hub or [data], loaded.label_names, name or default, reader, FLAGS, rows_of
    )
    if split not in (None, "all") and kept is None:
        raise UsageError(
            f"--split {split}: {data} has no column {column!r} to choose its rows by",
            hint="leave --split out: every row is scored",
        )
    name = name or (f"{default}-{kept}" if kept else default)
    labelled.name = check_name(name)
    dataset = to_dataset(labelled, loaded.tokenizer, spec.dataset.max_length, task, spec.dataset.truncate)
    with rows_progress(console, len(labelled), "evaluating") as advance:
        result = predict(loaded.model, dataset, collator(loaded.tokenizer), loaded.batch_size, task, advance)
    scores = loaded.scores(result.logits)
    predicted = decide(scores, task, loaded.thresholds)
    labels = labelled.labels
    metrics = {
        **result.stats(),
        **compute(spec.metrics.names or [], task, labels, predicted, loaded.label_names, scores),
    }
    warnings = seen_in_training(loaded, labelled, data)
    scope = f"the rows whose {column} says {kept}" if kept else None
    evaluation = {
        "data": data if hub else os.path.abspath(data),
        "rows": len(labelled),
        **({"split": scope} if scope else {}),
        "thresholds": loaded.run.thresholds() or {},
        "warnings": warnings,
        name: metrics,
    }
    frame = prediction_rows(
        name, labelled.ids, labelled.texts, labels, scores, predicted, loaded.label_names, labelled.pairs
    )
    writer = RunWriter(loaded.run.paths, loaded.run.record)
    writer.write_extra_evaluation(
        name, evaluation, {name: confusion(task, labels, predicted, loaded.label_names)}, frame
    )
    return Evaluation(name, metrics, warnings, len(labelled), scope)


def seen_in_training(loaded: LoadedRun, split, data: str) -> list[str]:
    """A warning when rows of `split` (read from `data`) have the text of a row the run trained
    on, found in its training data as it is now (said, when that changed since the run or cannot
    be read)."""
    from peftspec.build.data import load_data
    from peftspec.build.overlap import overlap_warnings
    from peftspec.build.problems import DataError

    try:
        bundle = load_data(loaded.spec.dataset)
    except (DataError, OSError) as exc:
        return [
            "whether these rows were trained on was not checked: the run's training data cannot be "
            f"read ({exc})"
        ]
    found = [str(p) for p in overlap_warnings(bundle.train, [(split, data)], loaded.spec.dataset.text_column)]
    recorded = loaded.run.record.data_hashes
    if found and recorded and any(recorded.get(k) not in (None, v) for k, v in bundle.hashes.items()):
        found.append(
            "the run's training data changed since it trained: rows were compared with it as it is now"
        )
    return found


def _file_name(data: str) -> str:
    """An evaluation's default name: the file's stem; for a split's folder saved by save_to_disk,
    the dataset's folder and the split (`emotions-test`), as for a hub split."""
    path = Path(data)
    return f"{path.resolve().parent.name}-{path.name}" if path.is_dir() else path.stem

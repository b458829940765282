"""`peftspec evaluate`: score a run on another labelled file and record it in the run directory."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from peftspec.build.data import load_labelled
from peftspec.errors import UsageError
from peftspec.inference.loaded import LoadedRun
from peftspec.metrics.evaluation import prediction_rows
from peftspec.metrics.registry import compute
from peftspec.metrics.scoring import confusion, decide, scores_from_logits
from peftspec.runs.writer import RunWriter
from peftspec.spec.paths import NAME_PATTERN

RESERVED = ("train", "validation", "test", "thresholds", "warnings")
"""Names the run's own evaluation uses: an extra evaluation by one of them would be shadowed."""


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
    loaded: LoadedRun, data: str, name: str | None = None, console=None
) -> tuple[str, dict[str, Any]]:
    """Metrics of `loaded` on labelled file `data`, recorded in the run as extra evaluation `name`
    (default: the file's name) with its confusion matrices and predictions; a bar over the rows
    on `console`'s terminal."""

    from peftspec.build.predict import predict
    from peftspec.build.tokenize import collator, to_dataset
    from peftspec.progress import rows_progress

    name = check_name(name or Path(data).stem)
    spec, task = loaded.spec, loaded.task
    split = load_labelled(spec.dataset, [data], loaded.label_names, name)
    dataset = to_dataset(split, loaded.tokenizer, spec.dataset.max_length, task)
    with rows_progress(console, len(split), "evaluating") as advance:
        result = predict(loaded.model, dataset, collator(loaded.tokenizer), loaded.batch_size, task, advance)
    scores = scores_from_logits(result.logits, task)
    predicted = decide(scores, task, loaded.thresholds)
    metrics = {
        **result.stats(),
        **compute(spec.metrics.names or [], task, split.labels, predicted, loaded.label_names),
    }
    evaluation = {
        "data": os.path.abspath(data),
        "rows": len(split),
        "thresholds": loaded.run.thresholds() or {},
        name: metrics,
    }
    frame = prediction_rows(
        name, split.ids, split.texts, split.labels, scores, predicted, loaded.label_names, split.pairs
    )
    writer = RunWriter(loaded.run.paths, loaded.run.record)
    writer.write_extra_evaluation(
        name, evaluation, {name: confusion(task, split.labels, predicted, loaded.label_names)}, frame
    )
    return name, metrics

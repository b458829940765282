"""`peftspec evaluate`: score a run on another labelled file and record it in the run directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from peftspec.build.data import load_labelled
from peftspec.metrics.scoring import compute, confusion, decide, scores_from_logits
from peftspec.inference.loaded import LoadedRun
from peftspec.runs.writer import atomic_write_json


def evaluate_file(loaded: LoadedRun, data: str, name: str | None = None) -> tuple[str, dict[str, Any]]:
    """Metrics of `loaded` on labelled file `data`; writes eval-/confusion-/predictions-<name> files."""
    import polars as pl

    from peftspec.build.predict import predict
    from peftspec.build.tokenize import collator, to_dataset

    name = name or Path(data).stem
    spec, task = loaded.spec, loaded.task
    split = load_labelled(spec.dataset, [data], loaded.label_names, name)
    dataset = to_dataset(split, loaded.tokenizer, spec.dataset.max_length, task)
    result = predict(loaded.model, dataset, collator(loaded.tokenizer), loaded.batch_size, task)
    scores = scores_from_logits(result.logits, task)
    predicted = decide(scores, task, loaded.thresholds)
    metrics = {
        **result.stats(),
        **compute(spec.metrics.names or [], task, split.labels, predicted, loaded.label_names),
    }
    paths = loaded.run.paths
    record = {
        "data": os.path.abspath(data),
        "rows": len(split),
        "thresholds": (loaded.run.thresholds() or {}),
        name: metrics,
    }
    atomic_write_json(paths.root / f"eval-{name}.json", record)
    atomic_write_json(
        paths.root / f"confusion-{name}.json",
        {name: confusion(task, split.labels, predicted, loaded.label_names)},
    )
    pl.DataFrame(
        {
            "split": [name] * len(split),
            "id": split.ids,
            "text": split.texts,
            "gold": split.labels.astype("int64").tolist(),
            "scores": scores.astype("float32").tolist(),
            "predicted": predicted.tolist(),
        }
    ).write_parquet(paths.root / f"predictions-{name}.parquet")
    return name, metrics

"""Where each file of a run directory lives. Every reader and writer goes through `RunPaths`.

<output_root>/<run name>-<UTC timestamp>/
    run.json             status, times, versions, device, seed, sizes, best checkpoint
    spec.toml            the resolved spec (every default filled in)
    source/              the spec files as written (the file, then each base it extends)
    metrics.jsonl        one JSON line per training log or evaluation, appended and flushed
    eval.json            final metrics per split (validation, test)
    confusion.json       confusion matrices per split
    thresholds.json      the decision thresholds used (tuned per label, or fixed)
    predictions.parquet  one row per evaluated example: split, id, text, gold, scores, predicted
    adapter/             the trained adapter (safetensors) and tokenizer; `model/` for full fine-tuning
    checkpoints/         Trainer checkpoints (the best and the latest are kept)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RUN_JSON = "run.json"
SPEC = "spec.toml"
SOURCE = "source"
METRICS = "metrics.jsonl"
EVAL = "eval.json"
CONFUSION = "confusion.json"
THRESHOLDS = "thresholds.json"
PREDICTIONS = "predictions.parquet"
ADAPTER = "adapter"
FULL_MODEL = "model"
CHECKPOINTS = "checkpoints"
TIMESTAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def run_json(self) -> Path:
        return self.root / RUN_JSON

    @property
    def spec(self) -> Path:
        return self.root / SPEC

    @property
    def source(self) -> Path:
        return self.root / SOURCE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS

    @property
    def eval(self) -> Path:
        return self.root / EVAL

    @property
    def confusion(self) -> Path:
        return self.root / CONFUSION

    @property
    def thresholds(self) -> Path:
        return self.root / THRESHOLDS

    @property
    def predictions(self) -> Path:
        return self.root / PREDICTIONS

    @property
    def adapter(self) -> Path:
        return self.root / ADAPTER

    @property
    def full_model(self) -> Path:
        return self.root / FULL_MODEL

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS

    @property
    def name(self) -> str:
        return self.root.name


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_run_dir(output_root: str | os.PathLike, run_name: str, now: datetime | None = None) -> RunPaths:
    """Create `<output_root>/<run_name>-<UTC timestamp>/`, never reusing an existing folder.

    `mkdir` without `exist_ok` is atomic, so two processes started in the same second get
    distinct folders (`-2`, `-3`, ... appended to the later ones).
    """
    root = Path(output_root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or utc_now()).strftime(TIMESTAMP)
    base = f"{run_name}-{stamp}"
    for n in range(1, 10_000):
        candidate = root / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return RunPaths(candidate)
    raise RuntimeError(f"cannot create a run folder under {root}")

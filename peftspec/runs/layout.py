"""Where each file of a run directory lives. Every reader and writer goes through `RunPaths`; no
module outside `peftspec/runs/` names a file of it (a test enforces this).

<output_root>/<run name>-<UTC timestamp>/
    run.json             the typed record (`RunRecord`): status, times, versions, device, sizes, best
    spec.toml            the resolved spec (every default filled in)
    source/              the spec files as written (the file, then each base it extends)
    metrics.jsonl        one JSON line per training log or evaluation, appended and flushed
    eval.json            final metrics per split (validation, test) and the thresholds used
    confusion.json       confusion matrices per split
    thresholds.json      the decision thresholds used (tuned per label, or fixed)
    predictions.parquet  one row per evaluated example: split, id, text (and pair), gold, scores, predicted
    eval-NAME.json       `peftspec evaluate --name NAME`: metrics on another labelled file,
    confusion-NAME.json    with its confusion matrices
    predictions-NAME.parquet  and its predictions
    adapter/             the trained adapter (safetensors) and tokenizer; `model/` for full fine-tuning
    checkpoints/         Trainer checkpoints (checkpoint-STEP; the best and the latest are kept)
    errors/rank-N.json   in a distributed run, the error a rank other than 0 died with
    .lock                held by the process that runs or resumes the run
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RUN_JSON = "run.json"

AT_HALF_KEY = "at_threshold_0.5"
"""In eval.json, where a tuned run's split records its figures with every label at threshold 0.5."""
CROSSFIT_KEY = "crossfit"
"""In eval.json, where a tuned run's validation split records its cross-fitted figures: each half
decided by thresholds tuned on the other half, so no row is scored by thresholds it tuned."""
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
ERRORS = "errors"
LOCK = ".lock"
TIMESTAMP = "%Y%m%dT%H%M%SZ"

FILE_NAMES = (RUN_JSON, SPEC, METRICS, EVAL, CONFUSION, THRESHOLDS, PREDICTIONS)
"""The run directory's own files, by name (the test that keeps them inside `runs/` reads this)."""
EXTRA_PREFIXES = ("eval-", "confusion-", "predictions-", "rank-", "checkpoint-")
_EXTRA_EVAL = re.compile(r"^eval-(.+)\.json$")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


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

    def weights(self, kind: str) -> Path:
        """The folder of the trained weights: `adapter` or `model` (full fine-tuning)."""
        return self.full_model if kind == FULL_MODEL else self.adapter

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS

    def checkpoint(self, step: int) -> Path:
        """The folder the Trainer writes at `step` (its own naming, `checkpoint-STEP`)."""
        return self.checkpoints / f"checkpoint-{step}"

    @staticmethod
    def checkpoint_step(folder: Path) -> int | None:
        match = _CHECKPOINT.match(folder.name)
        return int(match.group(1)) if match else None

    @property
    def errors(self) -> Path:
        return self.root / ERRORS

    def rank_error(self, rank: int) -> Path:
        return self.errors / f"rank-{rank}.json"

    def rank_errors(self) -> list[Path]:
        return sorted(self.errors.glob("rank-*.json")) if self.errors.is_dir() else []

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    def extra_eval(self, name: str) -> Path:
        return self.root / f"eval-{name}.json"

    def extra_confusion(self, name: str) -> Path:
        return self.root / f"confusion-{name}.json"

    def extra_predictions(self, name: str) -> Path:
        return self.root / f"predictions-{name}.parquet"

    def extra_eval_names(self) -> list[str]:
        """Names of the `peftspec evaluate` results recorded, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(m.group(1) for p in self.root.iterdir() if (m := _EXTRA_EVAL.match(p.name)))

    @property
    def name(self) -> str:
        return self.root.name


def is_run_dir(path: str | os.PathLike) -> bool:
    """A folder holding a run record or a metric stream (a run killed before its first record)."""
    root = Path(path)
    return root.is_dir() and ((root / RUN_JSON).exists() or (root / METRICS).exists())


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

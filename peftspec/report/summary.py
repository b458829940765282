"""One run boiled down to the figures that reports and comparisons show."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peftspec.runs import Run, read_run

SCALAR_METRICS = ["f1_micro", "f1_macro", "f1_weighted", "subset_accuracy", "accuracy", "jaccard"]


@dataclass
class RunSummary:
    run: Run
    train_losses: list[tuple[int, float]] = field(default_factory=list)
    evals: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def info(self) -> dict[str, Any]:
        return self.run.info

    def split_metrics(self, split: str = "validation") -> dict[str, Any]:
        return self.evaluation.get(split) or {}

    @property
    def final_train_loss(self) -> float | None:
        return self.train_losses[-1][1] if self.train_losses else None

    @property
    def best_train_loss(self) -> float | None:
        return min(loss for _, loss in self.train_losses) if self.train_losses else None

    def row(self, split: str = "validation") -> dict[str, Any]:
        """The comparison row: every value traced to run.json, metrics.jsonl or eval.json."""
        metrics = self.split_metrics(split)
        plan = self.info.get("plan") or {}
        return {
            "run": self.name,
            "status": self.run.status,
            "backbone": self.info.get("backbone"),
            "adapter": self.info.get("adapter"),
            "quantization": self.info.get("quantization"),
            "final_train_loss": self.final_train_loss,
            "best_train_loss": self.best_train_loss,
            "val_loss": (self.split_metrics("validation") or {}).get("loss"),
            **{name: metrics.get(name) for name in SCALAR_METRICS},
            "eval_samples_per_second": metrics.get("samples_per_second"),
            "trainable_parameters": plan.get("trainable_parameters"),
            "wall_time_s": self.info.get("duration_s"),
        }


def summarize(path: str | Path) -> RunSummary:
    run = read_run(path)
    records = run.metrics()
    train = [
        (int(r.get("step") or 0), float(r["loss"]))
        for r in records
        if r.get("event") == "train" and isinstance(r.get("loss"), int | float)
    ]
    evals = [r for r in records if r.get("event") == "eval"]
    text = run.spec_text()
    try:
        spec = tomllib.loads(text) if text else {}
    except tomllib.TOMLDecodeError:
        run.warnings.append("spec.toml: unreadable")
        spec = {}
    return RunSummary(run, train, evals, {**extra_evaluations(run), **(run.eval() or {})}, spec)


def extra_evaluations(run: Run) -> dict[str, Any]:
    """Evaluations added by `peftspec evaluate` (`eval-<name>.json`), by name."""
    import json

    out = {}
    for path in sorted(run.path.glob("eval-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run.warnings.append(f"{path.name}: unreadable")
            continue
        name = path.stem.removeprefix("eval-")
        if isinstance(data.get(name), dict):
            out[name] = data[name]
    return out

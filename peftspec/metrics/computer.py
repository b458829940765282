"""`compute_metrics` for the HF Trainer: the spec's metrics at each in-training evaluation."""

from __future__ import annotations

from typing import Any

from peftspec.metrics.health import prediction_health
from peftspec.metrics.registry import compute
from peftspec.metrics.scoring import decide, scores_from_logits


class MetricComputer:
    """Scalar metrics go to the Trainer (and the best-checkpoint choice); the others (per-label
    tables) are kept in `last_details` for the metric stream."""

    def __init__(self, names: list[str], task: str, label_names: list[str], threshold: float | None = None):
        self.names, self.task, self.label_names, self.threshold = names, task, label_names, threshold
        self.last_details: dict[str, Any] = {}

    def __call__(self, eval_pred) -> dict[str, float]:
        predictions = eval_pred.predictions
        logits = predictions[0] if isinstance(predictions, tuple) else predictions
        scores = scores_from_logits(logits, self.task)
        pred = decide(scores, self.task, self.threshold)
        result = compute(self.names, self.task, eval_pred.label_ids, pred, self.label_names, scores)
        self.last_details = {k: v for k, v in result.items() if not isinstance(v, float)}
        self.last_details["health"] = prediction_health(scores, pred, self.task, self.label_names)
        return {k: v for k, v in result.items() if isinstance(v, float)}

"""`[metrics]`: what to compute at each evaluation, and the decision threshold."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from peftspec.spec.base import SpecModel, known_words


def _word_or_number(value: object) -> str:
    return "word" if isinstance(value, str) else "number"


Threshold = Annotated[
    Annotated[float, Field(gt=0.0, lt=1.0), Tag("number")] | Annotated[Literal["tuned"], Tag("word")],
    Discriminator(_word_or_number),
    known_words("tuned", expected='expected a number between 0 and 1 (exclusive), or "tuned"'),
]


class MetricsSpec(SpecModel):
    """Evaluation metrics. Names are checked against the task (see the metric table in the docs)."""

    names: list[str] | None = None
    """Metrics to compute at every evaluation; unset = the task's defaults (multi-label: F1 micro,
    macro and weighted, subset accuracy, Jaccard, ROC AUC, average precision, per-label)."""
    threshold: Threshold = 0.5
    """Decision threshold: multi-label, on each label's sigmoid score; binary, on the positive
    (second) class's probability, 0.5 being the arg-max. Or `"tuned"`: chosen on validation to
    maximise `tune_for` (one per label, or the binary task's one), saved with the run. A
    multi-class task decides by the highest score."""
    calibration: Literal["none", "temperature"] = "none"
    """Make the final scores honest probabilities: `temperature` divides the logits by one number
    fitted on validation (the one of least log-loss), recorded with the run and applied by
    `evaluate`, `predict`, `serve` and `export`. It changes no arg-max and no decision at 0.5;
    thresholds (a number, or tuned) apply to the calibrated scores. Evaluations during training
    are not calibrated. Unset = the model's own scores."""
    tune_for: str | None = None
    """The metric tuned thresholds maximise (`threshold = "tuned"`): per-label F1 for `f1_macro`
    and `f1_weighted`, thresholds searched jointly for `f1_micro`, `jaccard`, `subset_accuracy`
    and the rest; a binary task's threshold for `f1`, `f1_macro` or `accuracy`. Unset =
    `trainer.best_metric` if it can be tuned for, else `f1_macro` (binary: `f1`)."""

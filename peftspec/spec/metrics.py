"""`[metrics]`: what to compute at each evaluation, and the multi-label decision threshold."""

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
    macro and weighted, subset accuracy, Jaccard, per-label)."""
    threshold: Threshold = 0.5
    """Multi-label decision threshold on each label's sigmoid score, or `"tuned"`: one threshold
    per label, chosen on validation to maximise `tune_for`, saved with the run."""
    tune_for: str | None = None
    """The metric tuned thresholds maximise (`threshold = "tuned"`): per-label F1 for `f1_macro`
    and `f1_weighted`, thresholds searched jointly for `f1_micro`, `jaccard`, `subset_accuracy`
    and the rest. Unset = `trainer.best_metric` (`f1_macro` when that is the loss)."""

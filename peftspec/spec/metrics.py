"""`[metrics]`: what to compute at each evaluation, and the multi-label decision threshold."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from peftspec.spec.base import SpecModel


def _word_or_number(value: object) -> str:
    return "word" if isinstance(value, str) else "number"


def _known_word(value: object) -> object:
    if isinstance(value, str) and value != "tuned":
        raise PydanticCustomError(
            "unknown_word",
            'expected a number between 0 and 1 (exclusive), or "tuned"',
            {"choices": ["tuned"]},
        )
    return value


Threshold = Annotated[
    Annotated[float, Field(gt=0.0, lt=1.0), Tag("number")] | Annotated[Literal["tuned"], Tag("word")],
    Discriminator(_word_or_number),
    BeforeValidator(_known_word),
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

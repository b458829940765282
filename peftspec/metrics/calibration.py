"""Calibration: whether a run's scores mean what they say. Of the rows scored 0.8, about 80% should
turn out so. A model can rank well (ROC AUC) and still be over- or under-confident, and a user who
reads its scores as probabilities (a cut-off chosen by hand, a triage queue) relies on this.

What a score is checked against depends on the task, the same way everywhere (the `ece` and `brier`
metrics, the report's reliability diagram):

- multi-label: every (row, label) sigmoid score against whether the label is gold, pooled;
- binary, and any single-label task with two classes: the second (positive) class's probability
  against whether the row is of that class;
- multi-class with more classes: the top class's probability (the model's confidence) against
  whether the top class is right (Guo et al., 2017).

The expected calibration error (ECE) bins the scores into `BINS` equal-width bins and averages the
gap between each bin's mean score and how often its outcome happened, weighted by the bin's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 15
"""Equal-width score bins of the ECE and the reliability diagram (Guo et al., 2017)."""


@dataclass(frozen=True)
class Reliability:
    """Per non-empty bin: the mean score, the share of outcomes that happened, and its rows."""

    score: np.ndarray
    observed: np.ndarray
    count: np.ndarray

    @property
    def total(self) -> int:
        return int(self.count.sum())

    @property
    def ece(self) -> float:
        """The expected calibration error: the bins' gaps weighted by their rows; NaN with no rows."""
        if not self.total:
            return float("nan")
        return float((self.count * np.abs(self.observed - self.score)).sum() / self.total)


def outcomes(gold, scores) -> tuple[np.ndarray, np.ndarray]:
    """(each checked score, whether its outcome happened as 0/1), flat, as the module's docstring
    says for the task that `gold` encodes (a 0/1 matrix: multi-label; a class index a row: single)."""
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold)
    if gold.ndim == 2:
        return scores.ravel(), gold.astype(np.float64).ravel()
    if scores.shape[1] == 2:
        return scores[:, 1], (gold == 1).astype(np.float64)
    return scores.max(axis=1), (scores.argmax(axis=1) == gold).astype(np.float64)


def reliability(gold, scores, bins: int = BINS) -> Reliability:
    """The reliability table of `scores` against `gold`: what a reliability diagram draws."""
    score, happened = outcomes(gold, scores)
    keep = np.isfinite(score)
    score, happened = score[keep], happened[keep]
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, bins - 1)  # 1.0 in the last
    count = np.bincount(index, minlength=bins)
    mean_score = np.bincount(index, weights=score, minlength=bins)
    happened_sum = np.bincount(index, weights=happened, minlength=bins)
    used = count > 0
    return Reliability(
        mean_score[used] / count[used], happened_sum[used] / count[used], count[used].astype(np.int64)
    )


def ece(gold, scores, label_names: list[str] | None = None) -> float:
    """The expected calibration error of `scores` (the registry's `ece`); NaN when a score is not
    finite (a diverged model: the health check says so)."""
    if not np.isfinite(np.asarray(scores, dtype=np.float64)).all():
        return float("nan")
    return reliability(gold, scores).ece


def brier(gold, scores, label_names: list[str] | None = None) -> float:
    """The Brier score (the registry's `brier`): the mean squared gap between each score and its
    0/1 outcome. Multi-label: over every (row, label) score; two classes: the positive class's
    probability; more classes: summed over the classes for each row, then averaged over rows (its
    original definition, 0 to 2); NaN when a score is not finite."""
    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores).all():
        return float("nan")
    gold = np.asarray(gold)
    if gold.ndim == 2:
        return float(np.mean((scores - gold) ** 2))
    if scores.shape[1] == 2:
        return float(np.mean((scores[:, 1] - (gold == 1)) ** 2))
    onehot = np.zeros_like(scores)
    onehot[np.arange(len(gold)), gold] = 1.0
    return float(np.mean(((scores - onehot) ** 2).sum(axis=1)))


TEMPERATURES = (0.01, 100.0)
"""The range a fitted temperature is searched in."""


def log_loss(logits, gold) -> float:
    """The mean log-loss of `logits` against `gold` as the task encodes it: binary cross-entropy of
    every (row, label) sigmoid for a 0/1 matrix, the softmax's negative log-likelihood of the gold
    class otherwise (computed from the logits, so no score is rounded to 0 or 1)."""
    from scipy.special import logsumexp

    logits = np.asarray(logits, dtype=np.float64)
    gold = np.asarray(gold)
    if gold.ndim == 2:
        return float(np.mean(np.logaddexp(0.0, logits) - gold * logits))
    return float(np.mean(logsumexp(logits, axis=1) - logits[np.arange(len(gold)), gold]))


def fit_temperature(logits, gold) -> float:
    """The temperature T (in `TEMPERATURES`) whose scores of `logits / T` have the least log-loss
    against `gold` on these rows (Guo et al., 2017): above 1, the model was overconfident. A model
    whose logits are not finite keeps 1."""
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)
    if not np.isfinite(logits).all() or not len(logits):
        return 1.0
    low, high = np.log(TEMPERATURES)
    found = minimize_scalar(
        lambda log_t: log_loss(logits / np.exp(log_t), gold), bounds=(low, high), method="bounded"
    )
    return float(np.exp(found.x))

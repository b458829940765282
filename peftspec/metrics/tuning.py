"""Multi-label decision thresholds tuned for the metric that will be reported (numpy only).

How a metric is tuned for is part of its registry entry (`Metric.thresholds`):

- `per_label`: each label's threshold maximises that label's F1, independently. Exact for F1
  macro (and weighted: the weights are the fixed supports), since those are sums of per-label F1.
- `joint`: the metric couples the labels (F1 micro pools the counts, Jaccard and subset accuracy
  score whole rows), so the thresholds are searched together: coordinate ascent over each
  label's candidate cuts with the others fixed, until a pass changes nothing, from each of three
  starts (every label at 0.5, the best single global threshold, the per-label F1 thresholds); the
  best end point wins. Each step can only raise the metric, so the result is never below any
  start.

Candidates lie halfway between two consecutive distinct scores of a label (a row's own score is
never the cut), plus one above all of them (predict none) and the lowest score (predict all). Ties
go to the current threshold, then to the candidate closest to 0.5.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from peftspec.metrics.registry import METRICS, compute
from peftspec.metrics.scoring import decide

MAX_PASSES = 10
GLOBAL_GRID = np.round(np.arange(0.02, 0.99, 0.01), 2)


@dataclass
class Tuning:
    """Per-label thresholds, what they were tuned for, and the labels that could not be tuned (why)."""

    values: np.ndarray
    untuned: dict[int, str] = field(default_factory=dict)
    objective: str = "f1_macro"
    method: str = "per-label F1"
    scope: str = "per_label"
    """How the values were found, for readers: `per_label`, `jointly` or `positive_class`."""
    score: float | None = None
    """The objective on the rows the thresholds were tuned on (optimistic by construction)."""


def tune_thresholds(
    scores: np.ndarray, gold: np.ndarray, objective: str = "f1_macro", task: str = "multi_label"
) -> Tuning:
    """Thresholds for `scores` (rows x labels) against 0/1 `gold` that maximise `objective` (a
    multi-label metric of the registry; a lower-is-better one is minimised) on these rows; for a
    binary task, its one threshold on the positive class's score (`tune_binary`)."""
    if task == "binary":
        return tune_binary(scores, gold, objective)
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold).astype(bool)
    if METRICS[objective].thresholds == "per_label":
        tuning = _per_label_f1(scores, gold)
        tuning.objective = objective
    else:
        tuning = _joint(scores, gold, objective)
    tuning.score = _value(objective, gold, scores >= tuning.values)
    return tuning


def tune_binary(scores: np.ndarray, gold: np.ndarray, objective: str = "f1") -> Tuning:
    """The threshold on the positive class's score (`scores[:, 1]`, class indices `gold`) that
    maximises `objective` (one of the registry's BINARY_TUNABLE) on these rows: every cut between two distinct
    scores is tried, ties going to the cut closest to 0.5. Without a positive row it stays at 0.5."""
    scores = np.asarray(scores, dtype=np.float64)
    hits = np.asarray(gold).astype(bool)
    method = "on the positive class's score"
    positives, rows = int(hits.sum()), len(hits)
    if positives == 0:
        reason = f"no positive example among the {rows} rows it would be tuned on"
        tuning = Tuning(np.array([0.5]), {0: reason}, objective, method, "positive_class")
    else:
        cuts, counts, tp = _candidates(scores[:, 1], hits)
        fp, fn = counts - tp, positives - tp
        tn = rows - positives - fp
        value = {
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "accuracy": (tp + tn) / rows,
            "f1_macro": (_ratio(2 * tp, 2 * tp + fp + fn) + _ratio(2 * tn, 2 * tn + fp + fn)) / 2,
        }[objective]
        tuning = Tuning(
            np.array([_pick(cuts, value, current=None)]),
            objective=objective,
            method=method,
            scope="positive_class",
        )
    decided = decide(scores, "binary", tuning.values)
    tuning.score = float(
        compute([objective], "binary", hits.astype(np.int64), decided, ["0", "1"])[objective]
    )
    return tuning


def _per_label_f1(scores: np.ndarray, gold: np.ndarray) -> Tuning:
    """Per label, the threshold that maximises that label's F1 (a label with no positive row keeps 0.5)."""
    tuning = Tuning(np.full(scores.shape[1], 0.5))
    for j in range(scores.shape[1]):
        positives = int(gold[:, j].sum())
        if positives == 0:
            tuning.untuned[j] = f"no positive example among the {len(gold)} rows it would be tuned on"
            continue
        cuts, counts, tp = _candidates(scores[:, j], gold[:, j])
        f1 = 2 * tp[1:] / (counts[1:] + positives)  # predicting none (counts 0) has F1 0
        tuning.values[j] = _pick(cuts[1:], f1, current=None)
    return tuning


def _candidates(column: np.ndarray, hits: np.ndarray):
    """(cuts, rows predicted positive at each cut, true positives at each cut), from "none" down to
    "all": one cut per distinct score."""
    order = np.argsort(-column, kind="stable")
    ranked, sorted_hits = column[order], hits[order]
    ends = np.flatnonzero(np.r_[ranked[1:] < ranked[:-1], True])  # last row of each distinct score
    below = np.r_[ranked[ends[:-1] + 1], ranked[-1]]
    mids = np.where(np.arange(len(ends)) < len(ends) - 1, (ranked[ends] + below) / 2, ranked[-1])
    top = max((ranked[0] + 1.0) / 2, np.nextafter(ranked[0], np.inf))
    cuts = np.r_[top, mids]
    counts = np.r_[0, ends + 1]
    tp = np.r_[0, np.cumsum(sorted_hits)[ends]]
    return cuts, counts, tp


def _pick(cuts: np.ndarray, values: np.ndarray, current: float | None) -> float:
    best = np.flatnonzero(np.isclose(values, values.max(), rtol=0, atol=1e-12))
    if current is not None and np.any(np.isclose(cuts[best], current, rtol=0, atol=0)):
        return current
    return float(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]])


# ---- joint search --------------------------------------------------------------------------------

Counts = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def _ratio(num, den, empty: float = 0.0):
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.where(den > 0, num / np.where(den > 0, den, 1), empty)


COUNT_METRICS: dict[str, Counts] = {
    "f1_micro": lambda tp, fp, fn, cells: _ratio(2 * tp, 2 * tp + fp + fn),
    "precision_micro": lambda tp, fp, fn, cells: _ratio(tp, tp + fp),
    "recall_micro": lambda tp, fp, fn, cells: _ratio(tp, tp + fn),
    "hamming_loss": lambda tp, fp, fn, cells: -(fp + fn) / cells,  # lower is better: maximise the negative
}
"""Metrics of the pooled (row, label) counts, vectorised over a label's candidate cuts."""


def _row_jaccard(inter: np.ndarray, union: np.ndarray) -> np.ndarray:
    return _ratio(inter, union, empty=1.0)  # SemEval: a row with no gold and no predicted label scores 1


ROW_METRICS = {"jaccard", "subset_accuracy"}


def _joint(scores: np.ndarray, gold: np.ndarray, objective: str) -> Tuning:
    grid = [_evaluate(objective, gold, scores >= cut) for cut in GLOBAL_GRID]
    starts = [
        np.full(scores.shape[1], 0.5),
        np.full(scores.shape[1], float(GLOBAL_GRID[int(np.argmax(grid))])),
        _per_label_f1(scores, gold).values,
    ]
    sweep = _sweep_for(objective)
    results = [
        _ascend(sweep, scores, gold, start, _evaluate(objective, gold, scores >= start)) for start in starts
    ]
    best = max(range(len(results)), key=lambda i: results[i][1])  # ties: the earliest start
    method = (
        "searched jointly (coordinate ascent from 0.5, from the best global threshold and from "
        "per-label F1; the best of the three)"
    )
    return Tuning(results[best][0], objective=objective, method=method, scope="jointly")


def _ascend(sweep, scores, gold, start: np.ndarray, value: float) -> tuple[np.ndarray, float]:
    """Coordinate ascent: each label's best cut with the others fixed, until a pass changes nothing."""
    current = start.copy()
    for _ in range(MAX_PASSES):
        changed = False
        for j in range(scores.shape[1]):
            cuts, totals = sweep(scores, gold, current, j)
            if totals.max() > value + 1e-12:
                current[j] = _pick(cuts, totals, current=None)
                value, changed = float(totals.max()), True
        if not changed:
            break
    return current, value


def _sweep_for(objective: str):
    if objective in COUNT_METRICS:
        return lambda s, g, t, j: _sweep_counts(COUNT_METRICS[objective], s, g, t, j)
    if objective in ROW_METRICS:
        return lambda s, g, t, j: _sweep_rows(objective, s, g, t, j)
    return lambda s, g, t, j: _sweep_any(objective, s, g, t, j)


def _sweep_counts(metric: Counts, scores, gold, thresholds, j):
    predicted = scores >= thresholds
    rest = np.ones(scores.shape[1], dtype=bool)
    rest[j] = False
    tp_rest = int((predicted[:, rest] & gold[:, rest]).sum())
    fp_rest = int((predicted[:, rest] & ~gold[:, rest]).sum())
    fn_rest = int((~predicted[:, rest] & gold[:, rest]).sum())
    cuts, counts, tp = _candidates(scores[:, j], gold[:, j])
    positives = int(gold[:, j].sum())
    return cuts, metric(tp_rest + tp, fp_rest + counts - tp, fn_rest + positives - tp, gold.size)


def _sweep_rows(objective: str, scores, gold, thresholds, j):
    """Row-scored metrics: each row's score with label j off and on, summed over the rows turned on."""
    predicted = scores >= thresholds
    rest = np.ones(scores.shape[1], dtype=bool)
    rest[j] = False
    g = gold[:, j]
    if objective == "jaccard":
        inter = (predicted[:, rest] & gold[:, rest]).sum(1)
        union = (predicted[:, rest] | gold[:, rest]).sum(1)
        off, on = _row_jaccard(inter, union + g), _row_jaccard(inter + g, union + 1)
    else:  # subset_accuracy
        right = (predicted[:, rest] == gold[:, rest]).all(1)
        off, on = (right & ~g).astype(float), (right & g).astype(float)
    order = np.argsort(-scores[:, j], kind="stable")
    cuts, counts, _ = _candidates(scores[:, j], g)
    gained = np.r_[0.0, np.cumsum((on - off)[order])]
    return cuts, (off.sum() + gained[counts]) / len(gold)


def _sweep_any(objective: str, scores, gold, thresholds, j, limit: int = 64):
    """Any other metric: computed at up to `limit` of label j's candidate cuts."""
    cuts, _, _ = _candidates(scores[:, j], gold[:, j])
    if len(cuts) > limit:
        cuts = cuts[np.unique(np.linspace(0, len(cuts) - 1, limit).round().astype(int))]
    trial = np.array(thresholds, dtype=np.float64)
    totals = []
    for cut in cuts:
        trial[j] = cut
        totals.append(_evaluate(objective, gold, scores >= trial))
    return cuts, np.array(totals)


def _value(objective: str, gold: np.ndarray, predicted: np.ndarray) -> float:
    """The objective as the registry computes it."""
    names = [str(i) for i in range(gold.shape[1])]
    return float(compute([objective], "multi_label", gold, predicted, names)[objective])


def _evaluate(objective: str, gold: np.ndarray, predicted: np.ndarray) -> float:
    """The objective, negated when lower is better (the search maximises)."""
    value = _value(objective, gold, predicted)
    return value if METRICS[objective].higher_is_better else -value

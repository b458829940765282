"""Metrics of many weighted resamples of one evaluation at once, for the paired bootstrap.

Every scalar metric in the registry is a function of per-row tallies: true positives, false
positives and false negatives per label, whether the row is exactly right, its Jaccard index and its
wrong decisions. A resample of the rows is a vector of counts (how often each row was drawn), so the
tallies of B resamples are one matrix product `counts (B x n) @ rows (n x m)`, and each metric is a
few array operations on them. `tallies(gold, pred, task, counts)` builds them; `METRIC_OF` maps a
registry name to the function that reads its value off them (checked against the registry's own
scikit-learn computation in the tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Tallies:
    """Weighted sums over each resample (one row per resample)."""

    tp: np.ndarray
    """(B, L) true positives per label (per class for single-label tasks)."""
    fp: np.ndarray
    fn: np.ndarray
    exact: np.ndarray
    """(B,) rows whose whole decision is right (the label set, or the class)."""
    jaccard: np.ndarray
    """(B,) the sum of the rows' Jaccard indices (1 for a row with no gold and no predicted label)."""
    wrong: np.ndarray
    """(B,) wrong (row, label) decisions."""
    rows: int
    """Rows in each resample."""


def indicator(labels: np.ndarray, task: str, classes: int) -> np.ndarray:
    """0/1 rows x labels: multi-label rows as they are, class indices one-hot."""
    labels = np.asarray(labels)
    if task == "multi_label":
        return labels.astype(np.float32)
    return np.eye(classes, dtype=np.float32)[labels.astype(np.int64)]


def row_table(gold: np.ndarray, pred: np.ndarray, task: str, classes: int) -> np.ndarray:
    """(n, 3L + 3) per-row tallies: tp, fp, fn per label, then exact, Jaccard, wrong decisions."""
    g, p = indicator(gold, task, classes), indicator(pred, task, classes)
    tp, fp, fn = g * p, (1 - g) * p, g * (1 - p)
    union = np.maximum(g, p).sum(axis=1)
    jaccard = np.where(union > 0, tp.sum(axis=1) / np.maximum(union, 1), 1.0)
    wrong = (fp + fn).sum(axis=1)
    exact = (wrong == 0).astype(np.float32)
    return np.concatenate([tp, fp, fn, exact[:, None], jaccard[:, None], wrong[:, None]], axis=1).astype(
        np.float32
    )


def tallies(table: np.ndarray, counts: np.ndarray) -> Tallies:
    """The tallies of each resample: `counts` (B, n) says how often each row was drawn."""
    sums = counts.astype(np.float32) @ table
    labels = (table.shape[1] - 3) // 3
    return Tallies(
        tp=sums[:, :labels],
        fp=sums[:, labels : 2 * labels],
        fn=sums[:, 2 * labels : 3 * labels],
        exact=sums[:, -3],
        jaccard=sums[:, -2],
        wrong=sums[:, -1],
        rows=round(float(counts[0].sum())) if len(counts) else 0,
    )


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom, 0 where bottom is 0 (scikit-learn's zero_division=0)."""
    return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), 0.0)


def _f1(tp, fp, fn) -> np.ndarray:
    return _ratio(2 * tp, 2 * tp + fp + fn)


def f1_micro(t: Tallies) -> np.ndarray:
    return _f1(t.tp.sum(1), t.fp.sum(1), t.fn.sum(1))


def f1_macro(t: Tallies) -> np.ndarray:
    return _f1(t.tp, t.fp, t.fn).mean(axis=1)


def f1_weighted(t: Tallies) -> np.ndarray:
    support = t.tp + t.fn
    return _ratio((_f1(t.tp, t.fp, t.fn) * support).sum(1), support.sum(1))


def precision_micro(t: Tallies) -> np.ndarray:
    return _ratio(t.tp.sum(1), t.tp.sum(1) + t.fp.sum(1))


def recall_micro(t: Tallies) -> np.ndarray:
    return _ratio(t.tp.sum(1), t.tp.sum(1) + t.fn.sum(1))


def exact_share(t: Tallies) -> np.ndarray:
    """Subset accuracy (multi-label) or accuracy (single-label)."""
    return t.exact / max(t.rows, 1)


def jaccard(t: Tallies) -> np.ndarray:
    return t.jaccard / max(t.rows, 1)


def hamming_loss(t: Tallies) -> np.ndarray:
    return t.wrong / max(t.rows * t.tp.shape[1], 1)


def _positive(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]):
    """A binary task's metric of the positive class (class 1)."""
    return lambda t: fn(t.tp[:, 1], t.fp[:, 1], t.fn[:, 1])


METRIC_OF: dict[str, Callable[[Tallies], np.ndarray]] = {
    "f1_micro": f1_micro,
    "f1_macro": f1_macro,
    "f1_weighted": f1_weighted,
    "precision_micro": precision_micro,
    "recall_micro": recall_micro,
    "subset_accuracy": exact_share,
    "accuracy": exact_share,
    "jaccard": jaccard,
    "hamming_loss": hamming_loss,
    "f1": _positive(_f1),
    "precision": _positive(lambda tp, fp, fn: _ratio(tp, tp + fp)),
    "recall": _positive(lambda tp, fp, fn: _ratio(tp, tp + fn)),
}
"""How each scalar metric of the registry reads off the tallies."""


def label_f1(index: int) -> str:
    """The name under which `metric_of` reads one label's (or class's) F1: `label_f1[3]`."""
    return f"label_f1[{index}]"


def metric_of(name: str) -> Callable[[Tallies], np.ndarray] | None:
    """How metric `name` reads off the tallies: a registry metric (`METRIC_OF`), or one label's F1
    (`label_f1(j)`, the j-th label in the run's order); None for a name that cannot be resampled."""
    if name in METRIC_OF:
        return METRIC_OF[name]
    if name.startswith("label_f1[") and name.endswith("]") and name[9:-1].isdigit():
        j = int(name[9:-1])
        return lambda t: _f1(t.tp[:, j], t.fp[:, j], t.fn[:, j])
    return None

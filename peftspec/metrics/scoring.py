"""Scores from logits, decisions at thresholds, threshold tuning, confusion matrices (numpy and
scikit-learn; no torch). The metrics themselves are in `peftspec.metrics.registry`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def scores_from_logits(logits: np.ndarray, task: str) -> np.ndarray:
    """Sigmoid per label (multi-label) or softmax over classes."""
    logits = np.asarray(logits, dtype=np.float64)
    if task == "multi_label":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def decide(scores: np.ndarray, task: str, thresholds: np.ndarray | float = 0.5) -> np.ndarray:
    """0/1 per label above its threshold (multi-label), or the arg-max class."""
    if task == "multi_label":
        return (scores >= np.asarray(thresholds)).astype(np.int64)
    return scores.argmax(axis=1).astype(np.int64)


def confusion(task: str, gold: np.ndarray, pred: np.ndarray, label_names: list[str]) -> dict[str, Any]:
    """Multi-label: a 2x2 [[tn, fp], [fn, tp]] per label. Otherwise one NxN matrix (rows = gold)."""
    from sklearn.metrics import confusion_matrix, multilabel_confusion_matrix

    if task == "multi_label":
        matrices = multilabel_confusion_matrix(gold, pred, labels=list(range(len(label_names))))
        return {
            "kind": "per_label",
            "labels": label_names,
            "layout": "[[tn, fp], [fn, tp]]",
            "matrices": {n: m.tolist() for n, m in zip(label_names, matrices)},
        }
    matrix = confusion_matrix(gold, pred, labels=list(range(len(label_names))))
    return {
        "kind": "matrix",
        "labels": label_names,
        "layout": "rows = gold, columns = predicted",
        "matrix": matrix.tolist(),
    }


@dataclass
class Tuning:
    """Per-label thresholds and, for the labels that could not be tuned, why (they keep 0.5)."""

    values: np.ndarray
    untuned: dict[int, str] = field(default_factory=dict)


def tune_thresholds(scores: np.ndarray, gold: np.ndarray) -> Tuning:
    """Per label, the threshold that maximises that label's F1 on these rows, searched over the
    scores the label actually takes (a label whose scores never reach 0.05 is tuned too): each
    candidate lies halfway between two consecutive distinct scores, so a row's own score is never
    the cut. Ties go to the candidate closest to 0.5. A label with no positive row keeps 0.5."""
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold).astype(bool)
    tuning = Tuning(np.full(scores.shape[1], 0.5))
    for j in range(scores.shape[1]):
        positives = int(gold[:, j].sum())
        if positives == 0:
            tuning.untuned[j] = f"no positive example among the {len(gold)} rows it would be tuned on"
            continue
        order = np.argsort(-scores[:, j], kind="stable")
        ranked, hits = scores[order, j], gold[order, j]
        tp = np.cumsum(hits)  # predicting the top k + 1 rows as positive
        ends = np.flatnonzero(np.r_[ranked[1:] < ranked[:-1], True])  # last row of each distinct score
        f1 = 2 * tp[ends] / (ends + 1 + positives)
        below = np.r_[ranked[ends[:-1] + 1], ranked[-1] - 1.0]  # the next lower score (none: far below)
        cuts = np.where(np.arange(len(ends)) < len(ends) - 1, (ranked[ends] + below) / 2, ranked[-1])
        best = np.flatnonzero(np.isclose(f1, f1.max()))
        tuning.values[j] = float(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]])
    return tuning

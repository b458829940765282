"""Scores from logits, decisions at thresholds, confusion matrices (numpy and scikit-learn; no
torch). The metrics are in `peftspec.metrics.registry`, threshold tuning in `peftspec.metrics.tuning`."""

from __future__ import annotations

from typing import Any

import numpy as np


def scores_from_logits(logits: np.ndarray, task: str) -> np.ndarray:
    """Sigmoid per label (multi-label) or softmax over classes."""
    logits = np.asarray(logits, dtype=np.float64)
    if task == "multi_label":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def decide(scores: np.ndarray, task: str, thresholds: np.ndarray | float | None = None) -> np.ndarray:
    """0/1 per label at or above its threshold (multi-label; None = 0.5); for a binary task with a
    threshold (a number, or a one-value array), the positive class where its score reaches it;
    otherwise the arg-max class."""
    if task == "multi_label":
        return (scores >= np.asarray(0.5 if thresholds is None else thresholds)).astype(np.int64)
    if task == "binary" and thresholds is not None:
        cut = float(np.asarray(thresholds, dtype=np.float64).ravel()[-1])
        return (scores[:, 1] >= cut).astype(np.int64)
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

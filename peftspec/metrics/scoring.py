"""Scores from logits, decisions at thresholds, threshold tuning, confusion matrices (numpy and
scikit-learn; no torch). The metrics themselves are in `peftspec.metrics.registry`."""

from __future__ import annotations

from typing import Any

import numpy as np

THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


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


def tune_thresholds(scores: np.ndarray, gold: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """Per label, the threshold in `grid` that maximises that label's F1 (ties: closest to 0.5)."""
    gold = np.asarray(gold).astype(bool)
    best = np.full(scores.shape[1], 0.5)
    order = np.argsort(np.abs(grid - 0.5), kind="stable")
    for j in range(scores.shape[1]):
        above = scores[:, j][None, :] >= grid[order][:, None]  # (grid, rows)
        tp = (above & gold[:, j]).sum(axis=1)
        fp = (above & ~gold[:, j]).sum(axis=1)
        fn = (~above & gold[:, j]).sum(axis=1)
        f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
        best[j] = grid[order][int(np.argmax(f1))]
    return best

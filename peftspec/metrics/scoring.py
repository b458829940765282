"""Scores, decisions, metrics and confusion matrices (numpy + scikit-learn; no torch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from peftspec.metrics.registry import METRICS

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


def compute(
    names: list[str], task: str, gold: np.ndarray, pred: np.ndarray, label_names: list[str]
) -> dict[str, Any]:
    """The requested metrics; `per_label` is a {label: {precision, recall, f1, support}} table."""
    from sklearn import metrics as skm

    gold = np.asarray(gold).astype(np.int64)
    pred = np.asarray(pred).astype(np.int64)
    labels = list(range(len(label_names)))
    out: dict[str, Any] = {}
    for name in names:
        if name == "per_label":
            out[name] = per_label(gold, pred, label_names)
        elif name.startswith(("f1_", "precision_", "recall_")):
            kind, average = name.split("_", 1)
            fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[kind]
            out[name] = float(fn(gold, pred, average=average, labels=labels, zero_division=0))
        elif name in ("f1", "precision", "recall"):
            fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[name]
            out[name] = float(fn(gold, pred, pos_label=1, average="binary", zero_division=0))
        elif name in ("subset_accuracy", "accuracy"):
            out[name] = float(skm.accuracy_score(gold, pred))
        elif name == "jaccard":
            # SemEval-2018 E-c: mean over tweets of |gold & pred| / |gold | pred|, 1 when both are empty
            out[name] = float(skm.jaccard_score(gold, pred, average="samples", zero_division=1.0))
        elif name == "hamming_loss":
            out[name] = float(skm.hamming_loss(gold, pred))
        else:
            raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return out


def per_label(gold: np.ndarray, pred: np.ndarray, label_names: list[str]) -> dict[str, dict[str, float]]:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(
        gold, pred, labels=list(range(len(label_names))), zero_division=0
    )
    return {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, name in enumerate(label_names)
    }


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


class MetricComputer:
    """`compute_metrics` for the HF Trainer; keeps the non-scalar results of the last call."""

    def __init__(self, names: list[str], task: str, label_names: list[str], threshold: float = 0.5):
        self.names, self.task, self.label_names, self.threshold = names, task, label_names, threshold
        self.last_details: dict[str, Any] = {}

    def __call__(self, eval_pred) -> dict[str, float]:
        scores = scores_from_logits(_logits(eval_pred.predictions), self.task)
        pred = decide(scores, self.task, self.threshold)
        result = compute(self.names, self.task, eval_pred.label_ids, pred, self.label_names)
        self.last_details = {k: v for k, v in result.items() if not isinstance(v, float)}
        return {k: v for k, v in result.items() if isinstance(v, float)}


def _logits(predictions) -> np.ndarray:
    return predictions[0] if isinstance(predictions, tuple) else predictions

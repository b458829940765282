"""Every metric peftspec knows, once: its name, the tasks it applies to, which way is better,
whether it is one number, and how to compute it.

Spec validation (`metrics.names`, `trainer.best_metric`), the evaluation code, the columns of
`compare` and `report`, the TUI's highlighting and the Trainer's `greater_is_better` all read this
table. Adding a metric is one `Metric(...)` entry below (and a line in the docs' metric table,
regenerated). Importing this module imports neither numpy nor scikit-learn: the compute functions
import them when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

ALL_TASKS = frozenset({"multi_label", "multi_class", "binary"})
MULTI_LABEL = frozenset({"multi_label"})
CLASSES = frozenset({"multi_class", "binary"})
BINARY = frozenset({"binary"})

Compute = Callable[[Any, Any, list[str]], Any]
"""(gold, predicted, label names) -> the value; gold and predicted as the task encodes them."""


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    """Short column title for tables."""
    description: str
    tasks: frozenset[str] = ALL_TASKS
    higher_is_better: bool = True
    scalar: bool = True
    """One number (a column, a curve, a valid `best_metric`); `per_label` is a table."""
    compute: Compute | None = None
    """None for the loss, which the model computes."""
    headline: bool = False
    """Shown where there is room for only a few (the TUI's run list, report curves)."""
    from_scores: bool = False
    """Computed from the scores (probabilities) rather than the decisions: `compute` takes
    (gold, scores, label names), and the value does not depend on the thresholds."""
    fitted_by_temperature: bool = False
    """Improved by a temperature fitted on the same rows (`metrics.calibration`), so optimistic on
    the split it was fitted on: the log-loss is what the fit minimises, and these move with it."""
    thresholds: Literal["per_label", "joint", "none"] = "joint"
    """How multi-label thresholds are tuned for it (`metrics.tune_for`): `per_label` (each label
    for its own F1: exact for metrics that sum per-label F1), `joint` (searched together), `none`
    (it does not depend on thresholds). See `peftspec.metrics.tuning`."""

    @property
    def direction(self) -> Literal["max", "min"]:
        return "max" if self.higher_is_better else "min"

    @property
    def requestable(self) -> bool:
        """Can be named in `metrics.names` (the loss is always recorded, never requested)."""
        return self.compute is not None


def _sklearn_average(kind: str, average: str) -> Compute:
    """F1, precision or recall averaged over labels (`micro`, `macro`, `weighted`), or of the
    positive class (`binary`)."""

    def compute(gold, pred, label_names):
        from sklearn import metrics as skm

        fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[kind]
        if average == "binary":
            return float(fn(gold, pred, pos_label=1, average="binary", zero_division=0))
        labels = list(range(len(label_names)))
        return float(fn(gold, pred, average=average, labels=labels, zero_division=0))

    return compute


def _accuracy(gold, pred, label_names) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(gold, pred))


def _jaccard(gold, pred, label_names) -> float:
    from sklearn.metrics import jaccard_score

    # SemEval-2018 E-c: mean over rows of |gold & pred| / |gold | pred|, 1 when both are empty
    return float(jaccard_score(gold, pred, average="samples", zero_division=1.0))


def _hamming(gold, pred, label_names) -> float:
    from sklearn.metrics import hamming_loss

    return float(hamming_loss(gold, pred))


def _per_label(gold, pred, label_names) -> dict[str, dict[str, float]]:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(
        gold, pred, labels=list(range(len(label_names))), zero_division=0
    )
    return {
        name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, name in enumerate(label_names)
    }


def _ranking(kind: str) -> Compute:
    """ROC AUC or average precision of each label's scores against the rest, averaged over the
    labels that occur and are absent somewhere in the split (one label against the rest for a
    single-label task; the positive class's score for a binary one); NaN when no label does, or
    when a score is not finite."""

    def compute(gold, scores, label_names):
        import numpy as np
        from sklearn import metrics as skm

        fn = {"roc_auc": skm.roc_auc_score, "average_precision": skm.average_precision_score}[kind]
        scores = np.asarray(scores, dtype=np.float64)
        if not np.isfinite(scores).all():  # a diverged model: the health check says so, not a crash
            return float("nan")
        gold = np.asarray(gold)
        if gold.ndim == 1:  # a class index per row: each class against the rest
            onehot = np.zeros(scores.shape, dtype=np.int64)
            onehot[np.arange(len(gold)), gold] = 1
            gold, scores = (onehot[:, 1:], scores[:, 1:]) if scores.shape[1] == 2 else (onehot, scores)
        values = [
            float(fn(gold[:, j], scores[:, j]))
            for j in range(gold.shape[1])
            if 0 < int(gold[:, j].sum()) < len(gold)
        ]
        return float(np.mean(values)) if values else float("nan")

    return compute


def _calibration(kind: str) -> Compute:
    """The expected calibration error or the Brier score (`peftspec.metrics.calibration`)."""

    def compute(gold, scores, label_names):
        from peftspec.metrics import calibration

        return {"ece": calibration.ece, "brier": calibration.brier}[kind](gold, scores, label_names)

    return compute


LOSS = "loss"
"""Validation loss: always recorded and always a valid best-model metric (lower is better)."""

_ENTRIES = [
    Metric(
        LOSS, "val loss", "Mean loss of the model on the split.", higher_is_better=False, thresholds="none"
    ),
    Metric(
        "f1_micro",
        "F1 micro",
        "F1 over all (row, label) decisions pooled; dominated by frequent labels.",
        compute=_sklearn_average("f1", "micro"),
        headline=True,
    ),
    Metric(
        "f1_macro",
        "F1 macro",
        "Unweighted mean of per-label F1; every label counts the same.",
        compute=_sklearn_average("f1", "macro"),
        headline=True,
        thresholds="per_label",
    ),
    Metric(
        "f1_weighted",
        "F1 weighted",
        "Mean of per-label F1 weighted by support.",
        compute=_sklearn_average("f1", "weighted"),
        thresholds="per_label",
    ),
    Metric(
        "precision_micro",
        "precision micro",
        "Precision over all (row, label) decisions pooled.",
        compute=_sklearn_average("precision", "micro"),
    ),
    Metric(
        "recall_micro",
        "recall micro",
        "Recall over all (row, label) decisions pooled.",
        compute=_sklearn_average("recall", "micro"),
    ),
    Metric(
        "subset_accuracy",
        "subset acc",
        "Share of rows whose whole label set is exactly right.",
        MULTI_LABEL,
        compute=_accuracy,
        headline=True,
    ),
    Metric(
        "accuracy",
        "accuracy",
        "Share of rows classified correctly.",
        CLASSES,
        compute=_accuracy,
        headline=True,
    ),
    Metric(
        "jaccard",
        "Jaccard",
        "Sample-averaged Jaccard index: the official SemEval-2018 E-c score.",
        MULTI_LABEL,
        compute=_jaccard,
        headline=True,
    ),
    Metric(
        "hamming_loss",
        "Hamming loss",
        "Share of wrong (row, label) decisions.",
        MULTI_LABEL,
        higher_is_better=False,
        compute=_hamming,
    ),
    Metric("f1", "F1", "F1 of the positive class.", BINARY, compute=_sklearn_average("f1", "binary")),
    Metric(
        "precision",
        "precision",
        "Precision of the positive class.",
        BINARY,
        compute=_sklearn_average("precision", "binary"),
    ),
    Metric(
        "recall",
        "recall",
        "Recall of the positive class.",
        BINARY,
        compute=_sklearn_average("recall", "binary"),
    ),
    Metric(
        "roc_auc",
        "ROC AUC",
        "Area under the ROC curve of each label's scores against the rest, averaged over labels "
        "(binary: of the positive class): how well the scores rank, at no threshold, so nothing is "
        "tuned on the rows it is scored on.",
        compute=_ranking("roc_auc"),
        from_scores=True,
        thresholds="none",
    ),
    Metric(
        "average_precision",
        "avg precision",
        "Average precision (area under the precision-recall curve) of each label's scores, averaged "
        "over labels (binary: of the positive class); threshold-free, and more telling than ROC AUC "
        "for rare labels.",
        compute=_ranking("average_precision"),
        from_scores=True,
        thresholds="none",
    ),
    Metric(
        "ece",
        "ECE",
        "Expected calibration error: the gap between the scores and how often they come true, in "
        "15 equal-width bins weighted by their rows (multi-label: every label's score; two classes: "
        "the positive class's; more: the top class's). 0 = the scores are honest probabilities.",
        higher_is_better=False,
        compute=_calibration("ece"),
        from_scores=True,
        fitted_by_temperature=True,
        thresholds="none",
    ),
    Metric(
        "brier",
        "Brier",
        "Brier score: the mean squared gap between the scores and the 0/1 outcomes (multi-label: "
        "every label's score; two classes: the positive class's; more: summed over classes, 0-2). "
        "Rewards both ranking and calibration; lower is better.",
        higher_is_better=False,
        compute=_calibration("brier"),
        from_scores=True,
        fitted_by_temperature=True,
        thresholds="none",
    ),
    Metric(
        "per_label",
        "per label",
        "Precision, recall, F1 and support of every label.",
        scalar=False,
        compute=_per_label,
        thresholds="per_label",
    ),
]

METRICS: dict[str, Metric] = {m.name: m for m in _ENTRIES}
"""Every metric by name, the loss included."""

RANKING = ["roc_auc", "average_precision"]
"""The threshold-free metrics every task records by default."""

DEFAULT_METRICS: dict[str, list[str]] = {
    "multi_label": [
        "f1_micro",
        "f1_macro",
        "f1_weighted",
        "subset_accuracy",
        "jaccard",
        *RANKING,
        "per_label",
    ],
    "multi_class": ["accuracy", "f1_micro", "f1_macro", "f1_weighted", *RANKING, "per_label"],
    "binary": ["accuracy", "f1", "precision", "recall", "f1_macro", *RANKING, "per_label"],
}

PRIMARY_METRIC = {"multi_label": "f1_macro", "multi_class": "f1_macro", "binary": "f1"}


def metrics_for(task: str) -> list[str]:
    """The metrics `metrics.names` may request for `task`, in table order."""
    return [m.name for m in _ENTRIES if m.requestable and task in m.tasks]


def scalar_metrics() -> list[str]:
    """Every one-number metric but the loss, in table order (the columns of comparisons)."""
    return [m.name for m in _ENTRIES if m.scalar and m.requestable]


BINARY_TUNABLE = ("f1", "f1_macro", "accuracy")
"""What a binary task's one threshold (on the positive class's score) can be tuned for."""


def by_argmax(task: str, threshold: float | str) -> bool:
    """Whether a run decides by the class of highest score: a multi-class task always, a binary
    one at threshold 0.5 (where its positive class wins exactly when it is the more likely)."""
    return task == "multi_class" or (task == "binary" and threshold == 0.5)


def tunable_metrics(task: str = "multi_label") -> list[str]:
    """The metrics thresholds can be tuned for (`metrics.tune_for`) in `task` (multi-label or binary)."""
    if task == "binary":
        return list(BINARY_TUNABLE)
    return [
        m.name
        for m in _ENTRIES
        if m.scalar and m.requestable and "multi_label" in m.tasks and m.thresholds != "none"
    ]


def headline_metrics() -> list[str]:
    return [m.name for m in _ENTRIES if m.headline]


def higher_is_better(name: str) -> bool:
    """Which way `name` improves; unknown names (a loss of some other kind) count as lower-better."""
    return METRICS[name].higher_is_better if name in METRICS else False


def compute(names: list[str], task: str, gold, pred, label_names: list[str], scores=None) -> dict[str, Any]:
    """The metrics `names` of predictions `pred` against `gold` (as the task encodes labels); those
    computed from the scores only when `scores` are given (decisions at other thresholds leave
    them as they are)."""
    import numpy as np

    gold = np.asarray(gold).astype(np.int64)
    pred = np.asarray(pred).astype(np.int64)
    out: dict[str, Any] = {}
    for name in names:
        metric = METRICS.get(name)
        if metric is None or metric.compute is None:
            raise KeyError(f"unknown metric {name!r}; known: {', '.join(metrics_for(task))}")
        if metric.from_scores:
            if scores is not None:
                out[name] = metric.compute(gold, scores, label_names)
            continue
        out[name] = metric.compute(gold, pred, label_names)
    return out

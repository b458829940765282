"""The metrics peftspec computes: names, the tasks they apply to, and which way is better.

Torch-free, so the spec layer can check names; `peftspec.compile` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_TASKS = frozenset({"multi_label", "multi_class", "binary"})


@dataclass(frozen=True)
class MetricInfo:
    description: str
    tasks: frozenset[str] = ALL_TASKS
    higher_is_better: bool = True
    scalar: bool = True


METRICS: dict[str, MetricInfo] = {
    "f1_micro": MetricInfo("F1 over all (row, label) decisions pooled; dominated by frequent labels."),
    "f1_macro": MetricInfo("Unweighted mean of per-label F1; every label counts the same."),
    "f1_weighted": MetricInfo("Mean of per-label F1 weighted by support."),
    "precision_micro": MetricInfo("Precision over all (row, label) decisions pooled."),
    "recall_micro": MetricInfo("Recall over all (row, label) decisions pooled."),
    "subset_accuracy": MetricInfo(
        "Share of rows whose whole label set is exactly right.", frozenset({"multi_label"})
    ),
    "jaccard": MetricInfo(
        "Sample-averaged Jaccard index: the official SemEval-2018 E-c score.", frozenset({"multi_label"})
    ),
    "hamming_loss": MetricInfo(
        "Share of wrong (row, label) decisions.", frozenset({"multi_label"}), higher_is_better=False
    ),
    "accuracy": MetricInfo("Share of rows classified correctly.", frozenset({"multi_class", "binary"})),
    "f1": MetricInfo("F1 of the positive class.", frozenset({"binary"})),
    "precision": MetricInfo("Precision of the positive class.", frozenset({"binary"})),
    "recall": MetricInfo("Recall of the positive class.", frozenset({"binary"})),
    "per_label": MetricInfo("Precision, recall, F1 and support of every label.", scalar=False),
}

LOSS = "loss"
"""Validation loss: always recorded and always a valid best-model metric (lower is better)."""

DEFAULT_METRICS: dict[str, list[str]] = {
    "multi_label": ["f1_micro", "f1_macro", "f1_weighted", "subset_accuracy", "jaccard", "per_label"],
    "multi_class": ["accuracy", "f1_micro", "f1_macro", "f1_weighted", "per_label"],
    "binary": ["accuracy", "f1", "precision", "recall", "f1_macro", "per_label"],
}

PRIMARY_METRIC = {"multi_label": "f1_macro", "multi_class": "f1_macro", "binary": "f1"}


def metrics_for(task: str) -> list[str]:
    return [name for name, info in METRICS.items() if task in info.tasks]


def higher_is_better(name: str) -> bool:
    return METRICS[name].higher_is_better if name in METRICS else False

"""One registry per metric: validation, computation, columns, highlighting and the Trainer's
direction all read it."""

from __future__ import annotations

import numpy as np

from peftspec.metrics.registry import METRICS, compute, higher_is_better, metrics_for, scalar_metrics
from peftspec.report.columns import COLUMNS


def test_every_requestable_metric_computes_for_its_tasks():
    gold_ml = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    pred_ml = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 1]])
    gold_mc, pred_mc = np.array([0, 1, 2, 1]), np.array([0, 2, 2, 1])
    gold_b, pred_b = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    data = {
        "multi_label": (gold_ml, pred_ml, ["a", "b", "c"]),
        "multi_class": (gold_mc, pred_mc, ["a", "b", "c"]),
        "binary": (gold_b, pred_b, ["neg", "pos"]),
    }
    for task, (gold, pred, names) in data.items():
        scores = np.eye(len(names))[pred] * 0.8 + 0.1 if task != "multi_label" else pred * 0.8 + 0.1
        values = compute(metrics_for(task), task, gold, pred, names, scores)
        assert set(values) == set(metrics_for(task)), task
        for name, value in values.items():
            assert isinstance(value, float) == METRICS[name].scalar, (task, name)


def test_loss_like_metrics_are_lower_is_better_everywhere():
    assert not higher_is_better("hamming_loss") and not higher_is_better("loss")
    columns = {c.key: c for c in COLUMNS}
    assert columns["hamming_loss"].better == "min" and columns["f1_macro"].better == "max"
    assert set(scalar_metrics()) <= set(columns)


def test_best_metric_direction_follows_the_registry(write_spec):
    from peftspec.spec import load_spec

    spec = load_spec(
        write_spec(
            """
            name = "x"
            [dataset]
            train = "train.csv"
            labels.columns = ["a", "b"]
            [backbone]
            model = "m"
            [metrics]
            names = ["f1_macro", "hamming_loss"]
            [trainer]
            best_metric = "hamming_loss"
            """
        )
    )
    assert spec.trainer.best_direction == "min"

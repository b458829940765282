"""Thresholds tuned for the reported metric (`metrics.tune_for`), on known scores."""

from __future__ import annotations

import numpy as np
import pytest

from peftspec.metrics.registry import compute
from peftspec.metrics.tuning import _candidates, tune_thresholds

LABELS = [f"l{j}" for j in range(5)]


def _value(name, gold, scores, thresholds) -> float:
    return compute([name], "multi_label", gold, scores >= thresholds, LABELS)[name]


@pytest.fixture(scope="module")
def known():
    """Scores that rank the gold labels imperfectly; frequent and rare labels, several per row."""
    rng = np.random.default_rng(6)
    gold = (rng.random((160, 5)) < [0.45, 0.3, 0.15, 0.1, 0.06]).astype(int)
    noise = rng.random((160, 5))
    scores = np.clip(0.35 * gold + 0.65 * noise * [1.0, 0.8, 0.6, 0.4, 0.3], 0, 1)
    return gold, scores


def test_tuning_for_jaccard_beats_per_label_f1_on_jaccard_and_the_reverse(known):
    gold, scores = known
    for_f1 = tune_thresholds(scores, gold, "f1_macro").values
    for_jaccard = tune_thresholds(scores, gold, "jaccard").values
    assert _value("jaccard", gold, scores, for_jaccard) > _value("jaccard", gold, scores, for_f1)
    assert _value("f1_macro", gold, scores, for_f1) > _value("f1_macro", gold, scores, for_jaccard)
    for_subset = tune_thresholds(scores, gold, "subset_accuracy").values
    at_half = _value("subset_accuracy", gold, scores, 0.5)
    assert _value("subset_accuracy", gold, scores, for_subset) >= max(
        at_half, _value("subset_accuracy", gold, scores, for_f1)
    )


@pytest.mark.parametrize(
    "objective", ["f1_micro", "jaccard", "subset_accuracy", "hamming_loss", "f1_weighted"]
)
def test_each_objective_is_a_local_optimum_as_scikit_learn_scores_it(known, objective):
    """The vectorised sweeps agree with the registry's own computation: the recorded score is the
    metric at the returned thresholds, and no single label's candidate cut improves on it."""
    gold, scores = known
    tuning = tune_thresholds(scores, gold, objective)
    value = _value(objective, gold, scores, tuning.values)
    assert tuning.score == pytest.approx(value, abs=1e-12) and tuning.objective == objective
    sign = -1 if objective == "hamming_loss" else 1
    for j in range(gold.shape[1]):
        trial = tuning.values.copy()
        for cut in _candidates(scores[:, j], gold[:, j].astype(bool))[0]:
            trial[j] = cut
            assert sign * _value(objective, gold, scores, trial) <= sign * value + 1e-12, (objective, j)


def test_micro_f1_tuning_is_never_below_any_start(known):
    gold, scores = known
    tuned = _value("f1_micro", gold, scores, tune_thresholds(scores, gold, "f1_micro").values)
    starts = [0.5, tune_thresholds(scores, gold, "f1_macro").values, *np.arange(0.02, 0.99, 0.01)]
    assert tuned >= max(_value("f1_micro", gold, scores, s) for s in starts) - 1e-12

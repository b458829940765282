"""Cross-fitted decisions (and scores): what a split whose thresholds (or calibration temperature)
were tuned on it can honestly report.

The split's rows are cut in two halves that share each label's positives; each half is decided by
thresholds tuned on the other. The final evaluation records the figures of these decisions, and
the paired bootstrap of `compare --baseline` recomputes the same decisions from the recorded
scores, so its differences are the ones the table shows. Numpy only.
"""

from __future__ import annotations

import numpy as np

from peftspec.metrics.scoring import decide
from peftspec.metrics.tuning import tune_thresholds

CROSSFIT_FOLDS = 2


def crossfit_decisions(
    scores: np.ndarray, gold: np.ndarray, objective: str, seed: int = 0, task: str = "multi_label"
) -> np.ndarray:
    """Each row decided by thresholds tuned on the other rows: the rows are split in two halves
    (`crossfit_halves`), thresholds are tuned on one half for `objective` and applied to the
    other, both ways (a binary task: its one threshold on the positive class's score). What a split
    whose thresholds were tuned on it can honestly report. Decided on the scores as
    predictions.parquet records them (float32), so the decisions can be made again from the file."""
    scores = np.asarray(scores, dtype=np.float32).astype(np.float64)
    gold = np.asarray(gold)
    halves = crossfit_halves(gold, seed)
    decided = np.zeros(np.shape(gold), dtype=np.int64)
    for i, scored in enumerate(halves):
        tuned_on = np.concatenate([h for j, h in enumerate(halves) if j != i])
        tuning = tune_thresholds(scores[tuned_on], gold[tuned_on], objective, task)
        decided[scored] = decide(scores[scored], task, tuning.values)
    return decided


def crossfit_scores(logits: np.ndarray, gold: np.ndarray, task: str, seed: int = 0) -> np.ndarray:
    """Each row's scores from its logits divided by a temperature fitted on the other half of the
    rows (`crossfit_halves`): what a split whose calibration temperature was fitted on it can
    honestly report as its ECE and Brier score."""
    from peftspec.metrics.calibration import fit_temperature
    from peftspec.metrics.scoring import scores_from_logits

    logits = np.asarray(logits, dtype=np.float64)
    gold = np.asarray(gold)
    scores = np.zeros(logits.shape, dtype=np.float64)
    halves = crossfit_halves(gold, seed)
    for i, scored in enumerate(halves):
        fitted_on = np.concatenate([h for j, h in enumerate(halves) if j != i])
        temperature = fit_temperature(logits[fitted_on], gold[fitted_on])
        scores[scored] = scores_from_logits(logits[scored] / temperature, task)
    return scores


def crossfit_halves(gold: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """The rows in two halves with each label's positives divided as evenly as they go
    (`stratified_split`, drawn by `seed`): a rare label's few positives are not all on one side,
    which would leave the other half's thresholds tuned on no positive at all."""
    from peftspec.build.stratify import stratified_split

    first, second = stratified_split(np.asarray(gold), 1 / CROSSFIT_FOLDS, seed)
    return [np.array(first, dtype=np.int64), np.array(second, dtype=np.int64)]

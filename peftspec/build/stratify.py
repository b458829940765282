"""Splitting labelled rows in two so that each label keeps its share on both sides.

One algorithm for every task: iterative stratification (Sechidis, Tsoumakas and Vlahavas, "On the
stratification of multi-label data", ECML PKDD 2011). Labels are taken rarest first; each row of
the label goes to the side that still wants the most rows of it. A class index is one label of a
one-hot row, and "no label" (a multi-label row with none, a class index of -1) is a label of its
own, so those rows are spread too. Numpy only.
"""

from __future__ import annotations

import math

import numpy as np


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(kept, held) row positions, each in file order: `ceil(fraction * rows)` rows held, and each
    label (class, or multi-label column) held in about that fraction of its rows. A label with a
    single row stays on the kept side while `fraction` < 0.5. `labels`: class indices (rows,) or a
    0/1 matrix (rows, labels). The same labels, fraction and seed give the same split."""
    indicator = _indicator(np.asarray(labels))
    rows = len(indicator)
    held_rows = math.ceil(fraction * rows)
    rng = np.random.default_rng(seed)
    side = _iterate(indicator, np.array([rows - held_rows, held_rows], dtype=float), rng)
    _settle(side, indicator, held_rows, fraction, rng)
    return np.flatnonzero(side == 0).tolist(), np.flatnonzero(side == 1).tolist()


def _indicator(labels: np.ndarray) -> np.ndarray:
    """A 0/1 (rows, labels) matrix with one more column for the rows that have no label."""
    if labels.ndim == 1:
        classes = labels.astype(np.int64)
        width = int(classes.max(initial=-1)) + 2  # column 0: no label (-1)
        matrix = np.zeros((len(classes), width), dtype=np.int64)
        matrix[np.arange(len(classes)), classes + 1] = 1
    else:
        matrix = (np.asarray(labels) > 0.5).astype(np.int64)
        matrix = np.column_stack([~matrix.any(axis=1), matrix]).astype(np.int64)
    return matrix[:, matrix.any(axis=0)] if len(matrix) else matrix


def _iterate(indicator: np.ndarray, wanted_rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Side 0 (kept) or 1 (held) for every row, label by label, rarest label first."""
    rows = len(indicator)
    share = wanted_rows / max(rows, 1)
    wanted = np.outer(share, indicator.sum(axis=0))  # (2, labels): rows of each label each side wants
    side = np.full(rows, -1)
    left = indicator.copy()
    remaining = left.sum(axis=0)
    while remaining.any():
        counts = np.where(remaining > 0, remaining, np.iinfo(np.int64).max)
        label = rng.choice(np.flatnonzero(counts == counts.min()))
        for row in rng.permutation(np.flatnonzero(left[:, label])):
            choice = _choose(wanted[:, label], wanted_rows, rng)
            side[row] = choice
            wanted[choice] -= indicator[row]
            wanted_rows[choice] -= 1
            remaining -= left[row]
            left[row] = 0
    return side


def _choose(for_label: np.ndarray, for_rows: np.ndarray, rng: np.random.Generator) -> int:
    """The side that wants the most rows of this label; then the most rows; then either."""
    if for_label[0] != for_label[1]:
        return int(np.argmax(for_label))
    if for_rows[0] != for_rows[1]:
        return int(np.argmax(for_rows))
    return int(rng.integers(2))


def _settle(side: np.ndarray, indicator: np.ndarray, held_rows: int, fraction: float, rng) -> None:
    """Move rows, one at a time, from the side with too many to the other until exactly `held_rows`
    are held: each time the row whose move brings its labels' counts on that side closest to their
    share (relative to each label's rows), never a label's last row on the kept side while another
    row can go."""
    surplus = int((side == 1).sum()) - held_rows
    source = 1 if surplus > 0 else 0
    share = fraction if source == 1 else 1 - fraction
    totals = indicator.sum(axis=0)
    weights = 1.0 / np.maximum(totals, 1)
    matrix = indicator.astype(np.float64)
    on_source = indicator[side == source].sum(axis=0)
    noise = rng.random(len(side)) * 1e-9  # ties broken by the seed
    for _ in range(abs(surplus)):
        deviation = on_source - share * totals
        gain = (np.abs(deviation) - np.abs(deviation - 1)) * weights
        candidates = np.flatnonzero(side == source)
        score = matrix[candidates] @ gain + noise[candidates]
        if source == 0:
            last = matrix[candidates] @ ((on_source == 1) & (totals > 0)).astype(np.float64) > 0
            if not last.all():
                score[last] = -np.inf
        row = candidates[int(np.argmax(score))]
        side[row] = 1 - source
        on_source -= indicator[row]

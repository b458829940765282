"""Splitting labelled rows so that each label keeps its share on every side: a validation hold-out
(two sides) or k folds.

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
    rows = len(labels)
    held_rows = math.ceil(fraction * rows)
    side = _assign(labels, [rows - held_rows, held_rows], [1 - fraction, fraction], seed)
    return np.flatnonzero(side == 0).tolist(), np.flatnonzero(side == 1).tolist()


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """The fold (0 to `folds` - 1) of each row: folds of equal size (one row apart at most), each
    holding about its share of every label's rows. Deterministic in `seed`."""
    rows = len(labels)
    sizes = [rows // folds + (1 if i < rows % folds else 0) for i in range(folds)]
    return _assign(labels, sizes, [1 / folds] * folds, seed)


def _assign(labels: np.ndarray, sizes: list[int], shares: list[float], seed: int) -> np.ndarray:
    """The side of each row, `sizes[i]` rows on side i, each side near `shares[i]` of every label."""
    indicator = _indicator(np.asarray(labels))
    rng = np.random.default_rng(seed)
    side = _iterate(indicator, np.array(sizes, dtype=float), rng)
    _settle(side, indicator, np.array(sizes), np.array(shares), rng)
    return side


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
    wanted = np.outer(share, indicator.sum(axis=0))  # (sides, labels): rows of each label each side wants
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
    """The side that wants the most rows of this label; then the most rows; then any of those."""
    best = np.flatnonzero(for_label == for_label.max())
    if len(best) > 1:
        best = best[for_rows[best] == for_rows[best].max()]
    return int(best[0] if len(best) == 1 else best[rng.integers(len(best))])


def _settle(side: np.ndarray, indicator: np.ndarray, sizes: np.ndarray, shares: np.ndarray, rng) -> None:
    """Move rows, one at a time, from the side with the most too many to the side with the most too
    few until each side has its size: each time the row whose move brings its labels' counts on
    that side closest to their share (relative to each label's rows); of two sides, never a
    label's last row on the kept side (0) while another row can go."""
    counts = np.bincount(side, minlength=len(sizes))
    moves = int(np.maximum(counts - sizes, 0).sum())
    if moves == 0:
        return
    totals = indicator.sum(axis=0)
    weights = 1.0 / np.maximum(totals, 1)
    matrix = indicator.astype(np.float64)
    noise = rng.random(len(side)) * 1e-9  # ties broken by the seed
    for _ in range(moves):
        source, target = int(np.argmax(counts - sizes)), int(np.argmin(counts - sizes))
        on_source = indicator[side == source].sum(axis=0)
        deviation = on_source - shares[source] * totals
        gain = (np.abs(deviation) - np.abs(deviation - 1)) * weights
        candidates = np.flatnonzero(side == source)
        score = matrix[candidates] @ gain + noise[candidates]
        if len(sizes) == 2 and source == 0:
            last = matrix[candidates] @ ((on_source == 1) & (totals > 0)).astype(np.float64) > 0
            if not last.all():
                score[last] = -np.inf
        row = candidates[int(np.argmax(score))]
        side[row] = target
        counts[source] -= 1
        counts[target] += 1

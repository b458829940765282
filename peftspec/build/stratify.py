"""Splitting labelled rows so that each label keeps its share on every side: a validation hold-out
(two sides) or k folds.

One algorithm for every task: iterative stratification (Sechidis, Tsoumakas and Vlahavas, "On the
stratification of multi-label data", ECML PKDD 2011). Labels are taken rarest first; each row of
the label goes to the side that still wants the most rows of it. A class index is one label of a
one-hot row, and "no label" (a multi-label row with none, a class index of -1) is a label of its
own, so those rows are spread too. Numpy only.

Rows may come in groups that must stay on one side (`groups`: the copies of one text). A group is
then placed as one unit carrying all its rows' labels, and the sides' sizes are met as closely as
whole groups allow. Without groups (or when every group is one row) the split is the row split.
"""

from __future__ import annotations

import math

import numpy as np


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int, groups: np.ndarray | None = None
) -> tuple[list[int], list[int]]:
    """(kept, held) row positions, each in file order: `ceil(fraction * rows)` rows held, and each
    label (class, or multi-label column) held in about that fraction of its rows. A label with a
    single row stays on the kept side while `fraction` < 0.5. `labels`: class indices (rows,) or a
    0/1 matrix (rows, labels); `groups`: each row's group (rows of one group stay on one side, and
    the held rows are as near `ceil(fraction * rows)` as whole groups allow). The same labels,
    fraction, groups and seed give the same split."""
    rows = len(labels)
    held_rows = math.ceil(fraction * rows)
    side = _assign(labels, [rows - held_rows, held_rows], [1 - fraction, fraction], seed, groups)
    return np.flatnonzero(side == 0).tolist(), np.flatnonzero(side == 1).tolist()


def stratified_folds(
    labels: np.ndarray, folds: int, seed: int, groups: np.ndarray | None = None
) -> np.ndarray:
    """The fold (0 to `folds` - 1) of each row: folds of equal size (one row apart at most; with
    `groups`, as near as whole groups allow), each holding about its share of every label's rows.
    Deterministic in `seed`."""
    rows = len(labels)
    sizes = [rows // folds + (1 if i < rows % folds else 0) for i in range(folds)]
    return _assign(labels, sizes, [1 / folds] * folds, seed, groups)


def _assign(
    labels: np.ndarray, sizes: list[int], shares: list[float], seed: int, groups: np.ndarray | None = None
) -> np.ndarray:
    """The side of each row, `sizes[i]` rows on side i, each side near `shares[i]` of every label;
    the rows of a group (`groups`) on one side."""
    indicator = _indicator(np.asarray(labels))
    if groups is not None:
        units, at = np.unique(np.asarray(groups), return_inverse=True)
        if len(units) < len(at):  # some rows share a group: each group is placed as one unit
            summed = np.zeros((len(units), indicator.shape[1]), dtype=np.int64)
            np.add.at(summed, at, indicator)
            side = _place(summed, np.bincount(at, minlength=len(units)), sizes, shares, seed)
            return side[at]
    return _place(indicator, np.ones(len(indicator), dtype=np.int64), sizes, shares, seed)


def _place(indicator: np.ndarray, weight: np.ndarray, sizes, shares, seed: int) -> np.ndarray:
    """The side of each unit (a row, or a group of rows `weight` long with `indicator` its summed
    labels)."""
    rng = np.random.default_rng(seed)
    side = _iterate(indicator, weight, np.array(sizes, dtype=float), rng)
    _settle(side, indicator, weight, np.array(sizes), np.array(shares), rng)
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


def _iterate(
    indicator: np.ndarray, weight: np.ndarray, wanted_rows: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Side 0 (kept) or 1 (held) for every unit, label by label, rarest label first."""
    units = len(indicator)
    share = wanted_rows / max(int(weight.sum()), 1)
    wanted = np.outer(share, indicator.sum(axis=0))  # (sides, labels): rows of each label each side wants
    side = np.full(units, -1)
    left = indicator.copy()
    remaining = left.sum(axis=0)
    while remaining.any():
        counts = np.where(remaining > 0, remaining, np.iinfo(np.int64).max)
        label = rng.choice(np.flatnonzero(counts == counts.min()))
        for unit in rng.permutation(np.flatnonzero(left[:, label])):
            choice = _choose(wanted[:, label], wanted_rows, rng)
            side[unit] = choice
            wanted[choice] -= indicator[unit]
            wanted_rows[choice] -= weight[unit]
            remaining -= left[unit]
            left[unit] = 0
    return side


def _choose(for_label: np.ndarray, for_rows: np.ndarray, rng: np.random.Generator) -> int:
    """The side that wants the most rows of this label; then the most rows; then any of those."""
    best = np.flatnonzero(for_label == for_label.max())
    if len(best) > 1:
        best = best[for_rows[best] == for_rows[best].max()]
    return int(best[0] if len(best) == 1 else best[rng.integers(len(best))])


def _settle(
    side: np.ndarray, indicator: np.ndarray, weight: np.ndarray, sizes: np.ndarray, shares: np.ndarray, rng
) -> None:
    """Move units, one at a time, from the side with the most rows too many to the side with the
    most too few while a move brings both nearer their sizes: each time the unit whose move brings
    its labels' counts on that side closest to their share (relative to each label's rows); of two
    sides, never a label's last unit on the kept side (0) while another can go. Single rows always
    reach the sizes exactly."""
    counts = np.bincount(side, weights=weight, minlength=len(sizes)).astype(np.int64)
    if not np.maximum(counts - sizes, 0).any():
        return
    totals = indicator.sum(axis=0)
    weights = 1.0 / np.maximum(totals, 1)
    matrix = indicator.astype(np.float64)
    noise = rng.random(len(side)) * 1e-9  # ties broken by the seed
    while True:
        excess = counts - sizes
        source, target = int(np.argmax(excess)), int(np.argmin(excess))
        over, under = int(excess[source]), int(-excess[target])
        if over <= 0:
            return
        candidates = np.flatnonzero(side == source)
        size = weight[candidates]
        nearer = over + under - np.abs(over - size) - np.abs(under - size) > 0  # both sides nearer
        if not nearer.any():
            return  # no whole group fits: the sizes stay as near as groups allow
        on_source = indicator[side == source].sum(axis=0)
        deviation = on_source - shares[source] * totals
        gain = (np.abs(deviation) - np.abs(deviation - 1)) * weights
        score = matrix[candidates] @ gain + noise[candidates]
        score[~nearer] = -np.inf
        if len(sizes) == 2 and source == 0:
            last = ((matrix[candidates] >= on_source) & (on_source > 0)).any(axis=1)
            if not (last | ~nearer).all():
                score[last] = -np.inf
        unit = candidates[int(np.argmax(score))]
        side[unit] = target
        counts[source] -= weight[unit]
        counts[target] += weight[unit]

"""Is a difference real? A paired bootstrap over the evaluated rows, against a baseline.

Protocol (said under every table that shows it): the rows of the split are resampled with
replacement, the same resample for every run (paired); each run's metric is computed on each
resample; a group counts as the mean of its runs' metrics on the same resample (its seeds, or its
folds). A group's seeds are drawn with replacement on each resample too (a two-level bootstrap), so
the interval holds the spread between seeds and not only that between rows: "the group is better"
then speaks for the training recipe, not for three particular models (a single run is one seed's
outcome, and its interval holds only the rows' spread). A group of folds was evaluated on each
fold's rows by another run, so the rows of each fold are resampled within that fold, and it pairs
only with runs that cut the same data into the same folds. A run that tuned its thresholds on the
compared rows is decided cross-fitted (each half by thresholds tuned on the other half), as its
figures in the table are. The 95% interval is the percentile interval of the difference to the
baseline, the p-value the two-sided bootstrap p-value (twice the smaller share of resampled
differences on either side of 0), and "significant" means a Holm-adjusted p below 0.05 over every
(run, metric) comparison in the table. Deterministic given the seed; vectorised
(`peftspec.metrics.resampled`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from peftspec.errors import UserError
from peftspec.metrics.crossfit import crossfit_decisions
from peftspec.metrics.fold_test import corrected_t
from peftspec.metrics.resampled import metric_of, row_table, tallies
from peftspec.runs import Run

ALPHA = 0.05
CHUNK = 500
"""Resamples drawn at once: 500 x 3,000 rows of counts is 6 MB."""


class Unpaired(UserError):
    """Runs whose evaluated rows differ cannot be compared row by row."""

    title = "cannot pair these runs"


class NoPredictions(Unpaired):
    """A run without recorded predictions on the split: differences only, no interval."""

    title = "no significance"


@dataclass
class Evaluated:
    """One run's decisions on a split, in row order."""

    run: str
    ids: list[str]
    texts: list[str] | list[tuple[str, str]]
    """Each row's text, or (text, pair) for a run on text pairs: rows pair up only when these agree."""
    gold: np.ndarray
    pred: np.ndarray
    crossfit: bool = False
    """Decided cross-fitted: the run tuned its thresholds on these rows (`evaluated`)."""


@dataclass
class Difference:
    """One run's (or group's) difference to the baseline on one metric."""

    name: str
    metric: str
    delta: float
    low: float
    high: float
    p: float
    """The bootstrap's p-value (over the rows, each run's model fixed)."""
    p_holm: float = 1.0
    significant: bool = False
    p_folds: float | None = None
    """Groups of folds: the corrected resampled t-test's p-value over the folds (`fold_test`)."""

    @property
    def judged(self) -> float:
        """The p-value corrected and judged: the larger of the rows' and the folds' (when tested)."""
        return self.p if self.p_folds is None else max(self.p, self.p_folds)


@dataclass
class Comparison:
    baseline: str
    split: str
    resamples: int
    seed: int
    rows: int
    folds: int = 1
    """Blocks of rows resampled apart: the folds of groups of folds, else 1."""
    crossfit: list[str] = field(default_factory=list)
    """Runs (or groups) decided cross-fitted because they tuned their thresholds on these rows."""
    seeded: list[str] = field(default_factory=list)
    """Groups of seeds, whose runs are drawn with replacement on each resample."""
    differences: list[Difference] = field(default_factory=list)

    def protocol(self) -> str:
        """What the differences are and how they were tested, for under the table."""
        rows = f"{self.rows:,} rows" + (
            f" in {self.folds} folds, each resampled within itself" if self.folds > 1 else ""
        )
        tuned = ""
        if self.crossfit:
            tuned = (
                f" Runs that tuned their thresholds on these rows ({'; '.join(self.crossfit)}) are "
                "decided cross-fitted, each half of the rows by thresholds tuned on the other half, "
                "as the table shows."
            )
        seeds = (
            " and of each group's seeds (drawn with replacement, so that the interval holds the "
            "spread between seeds)"
            if self.seeded
            else ""
        )
        folds = ""
        if any(d.p_folds is not None for d in self.differences):
            folds = (
                f" The bootstrap holds each fold's model fixed, so groups of folds are also tested "
                f"over their {self.folds} folds, each fold's model one draw of the recipe: a corrected "
                "resampled t-test (Nadeau and Bengio, 2003) of the per-fold differences, the variance "
                "scaled by 1/K + test rows / training rows; the larger of its p-value and the "
                "bootstrap's is the one corrected and judged."
            )
        return (
            f"Differences to {self.baseline} on {self.split} ({rows}): paired bootstrap, "
            f"{self.resamples:,} resamples of the rows (seed {self.seed}){seeds}, a group as the mean "
            "of its runs (seeds or folds) on each resample; 95% percentile intervals, two-sided bootstrap "
            f"p-values, * = significant at {ALPHA} after Holm's correction for "
            f"{len(self.differences)} comparisons.{folds}{tuned}"
        )


def evaluated(run: Run, split: str) -> Evaluated:
    """The run's recorded decisions on `split` (predictions.parquet, or an extra evaluation's); a
    run that tuned its thresholds on `split` is decided cross-fitted, as its figures there are."""
    frame = run.split_predictions(split)
    if frame is None or frame.height == 0:
        raise NoPredictions(
            f"{run.name} has no recorded predictions on {split}, so no difference has an interval "
            "(significance needs every run's predictions, written when a run completes)"
        )
    gold = np.asarray(frame["gold"].to_list())
    pred = np.asarray(frame["predicted"].to_list())
    thresholds = run.thresholds_used()
    crossfit = thresholds.get("mode") == "tuned" and thresholds.get("tuned_on") == split
    if crossfit:  # the recorded decisions used thresholds tuned on these very rows
        scores = np.asarray(frame["scores"].to_list())
        task = run.record.task or "multi_label"
        pred = crossfit_decisions(scores, gold, thresholds.get("tuned_for") or "f1_macro", task=task)
    texts = frame["text"].to_list()
    if "pair" in frame.columns:  # a run on text pairs: a row is both texts
        texts = [(text, pair) for text, pair in zip(texts, frame["pair"].to_list())]
    return Evaluated(run.name, [str(i) for i in frame["id"].to_list()], texts, gold, pred, crossfit)


@dataclass
class Blocks:
    """The row sets the baseline's runs were evaluated on: one for runs of one split (a single run,
    seeds), one per fold for a group of folds. Every run is evaluated on one of them."""

    rows: list[Evaluated]
    """Each block's rows, in the order that every run's rows are put in."""
    runs: list[Evaluated]
    """Every run, its rows in its block's order."""
    of_run: list[int]
    """The block each run was evaluated on."""

    @property
    def sizes(self) -> list[int]:
        return [len(b.ids) for b in self.rows]


def paired(sides: list[list[Evaluated]], names: list[str] | None = None) -> Blocks:
    """Every run's rows in the order of the baseline run on the same rows; `Unpaired` when a run
    was evaluated on rows no baseline run was, or a side misses some of the baseline's rows."""
    names = names or [side[0].run for side in sides]
    blocks: list[Evaluated] = []
    out, of_run = [], []
    for n, side in enumerate(sides):
        covered = set()
        for run in side:
            at = _block_of(run, blocks)
            if at is None and n == 0:
                _check_apart(run, blocks, names[0])
                blocks.append(run)
                at = len(blocks) - 1
            if at is None:
                raise Unpaired(_different_rows(run, blocks, names[0]), hint=PAIRING_HINT)
            out.append(_aligned(run, blocks[at]))
            of_run.append(at)
            covered.add(at)
        if len(covered) < len(blocks):
            raise Unpaired(
                f"{names[n]} covers {len(covered)} of the {len(blocks)} folds that {names[0]} was "
                "evaluated on, so the two are not scored on the same rows",
                hint=PAIRING_HINT,
            )
    return Blocks(blocks, out, of_run)


PAIRING_HINT = (
    "compare runs evaluated on the same split of the same data; groups of folds pair up when they "
    "cut the same data into the same folds (the same dataset.folds, split_seed, stratify and "
    "duplicates_together)"
)


def _block_of(run: Evaluated, blocks: list[Evaluated]) -> int | None:
    """The block holding exactly `run`'s rows (in any order when no id repeats), or None."""
    for i, block in enumerate(blocks):
        if run.ids == block.ids:
            return i
    for i, block in enumerate(blocks):
        if len(set(block.ids)) == len(block.ids) and sorted(run.ids) == sorted(block.ids):
            return i
    return None


def _check_apart(run: Evaluated, blocks: list[Evaluated], baseline: str) -> None:
    """A new block must share no row with the others: folds resample apart, overlapping row sets
    (replicates with `--vary-split`) cannot."""
    ids = set(run.ids)
    for block in blocks:
        if ids & set(block.ids):
            raise Unpaired(
                f"the runs of {baseline} were evaluated on different rows that overlap ({run.run} "
                f"and {block.run}, as replicates with --vary-split are), so no resample pairs them",
                hint="compare them on a split every run shares, such as a test file",
            )


def _different_rows(run: Evaluated, blocks: list[Evaluated], baseline: str) -> str:
    if len(blocks) == 1:
        first = blocks[0]
        only = sorted(set(run.ids) ^ set(first.ids))[:3]
        return (
            f"{run.run} and {first.run} were evaluated on different rows ({len(run.ids):,} against "
            f"{len(first.ids):,}; ids in one only: {only or 'repeated ids'})"
        )
    sizes = ", ".join(f"{len(b.ids):,}" for b in blocks)
    return (
        f"{run.run} was evaluated on different rows ({len(run.ids):,}) than any of the {len(blocks)} "
        f"folds of {baseline} ({sizes} rows)"
    )


def _aligned(run: Evaluated, block: Evaluated) -> Evaluated:
    """`run` with its rows in `block`'s order, or `Unpaired` when the same ids hold other data."""
    if run.ids != block.ids:
        order = {row_id: i for i, row_id in enumerate(run.ids)}
        pick = [order[row_id] for row_id in block.ids]
        run = Evaluated(
            run.run, block.ids, [run.texts[i] for i in pick], run.gold[pick], run.pred[pick], run.crossfit
        )
    if run.texts != block.texts or not np.array_equal(run.gold, block.gold):
        raise Unpaired(
            f"{run.run} and {block.run} share row ids but not their texts or gold labels: "
            "they were evaluated on different data",
            hint="compare runs of the same data files",
        )
    return run


def resample_counts(
    rows: int | Sequence[int], resamples: int, seed: int, chunk: int = CHUNK
) -> Iterator[np.ndarray]:
    """How often each row is drawn in each resample, `chunk` resamples at a time (B, rows). With
    several blocks (`rows` a list of their sizes), each block's rows are drawn within the block,
    its size times, and the blocks' columns follow each other."""
    sizes = [rows] if isinstance(rows, int) else list(rows)
    rng = np.random.default_rng(seed)
    done = 0
    while done < resamples:
        b = min(chunk, resamples - done)
        parts = []
        for n in sizes:
            draws = rng.integers(0, n, size=(b, n)) + (np.arange(b)[:, None] * n)
            parts.append(np.bincount(draws.ravel(), minlength=b * n).reshape(b, n))
        yield parts[0] if len(parts) == 1 else np.hstack(parts)
        done += b


def compare(
    baseline: list[Run],
    others: dict[str, list[Run]],
    split: str,
    metrics: list[str],
    task: str,
    classes: int,
    resamples: int = 10_000,
    seed: int = 0,
    baseline_name: str | None = None,
) -> Comparison:
    """Each of `others` (a name -> its runs: one, or a group's seeds or folds) against `baseline`
    (one run or a group) on every metric in `metrics`. A group counts as the mean of its runs'
    metrics; a group of folds is resampled within each fold."""
    names = [baseline_name or baseline[0].name, *others]
    members = [baseline, *others.values()]
    blocks = paired([[evaluated(run, split) for run in side] for side in members], names)
    edges = np.cumsum([0, *blocks.sizes])
    columns = [slice(edges[b], edges[b + 1]) for b in blocks.of_run]
    tables = [row_table(s.gold, s.pred, task, classes) for s in blocks.runs]
    slices, at = [], 0
    for side in members:
        slices.append(slice(at, at + len(side)))
        at += len(side)
    metrics = [m for m in metrics if metric_of(m) is not None]
    readers = [metric_of(m) for m in metrics]

    replicates = [_replicates(blocks.of_run[s]) for s in slices]
    seeds_rng = np.random.default_rng([seed, 1])  # apart from the rows' stream, which stays as it was

    def per_run_values(counts: np.ndarray) -> np.ndarray:
        """(runs, metrics, B): each run's metric on each resample (`counts`: B x rows)."""
        return np.stack(
            [
                np.stack([read(t) for read in readers])
                for t in (tallies(tb, counts[:, c]) for tb, c in zip(tables, columns))
            ]
        )

    def side_values(per_run: np.ndarray, draw: bool = True) -> np.ndarray:
        """(sides, metrics, B): each side's metric on each resample, from its runs' (`per_run`). A
        group counts as the mean of its folds, each fold (or the one split) as the mean of its
        seeds, drawn with replacement on each resample when `draw`."""
        resampled = per_run.shape[2]
        b = np.arange(resampled)[:, None]
        sides = []
        for s, sets in zip(slices, replicates):
            runs = per_run[s]
            parts = []
            for at in sets:  # runs[at] (R, M, B) -> (M, B); a drawn set indexes as (B, R, M)
                if draw and len(at) > 1:
                    chosen = np.asarray(at)[seeds_rng.integers(0, len(at), size=(resampled, len(at)))]
                    parts.append(runs[chosen, :, b].mean(axis=1).T)
                else:
                    parts.append(runs[at].mean(axis=0))
            sides.append(np.mean(parts, axis=0))
        return np.stack(sides)

    rows = int(edges[-1])
    whole = per_run_values(np.ones((1, rows), dtype=np.int64))  # each run on all its rows, once
    observed = side_values(whole, draw=False)[:, :, 0]
    draws = np.concatenate(
        [side_values(per_run_values(c)) for c in resample_counts(blocks.sizes, resamples, seed)], axis=2
    )
    crossfit = [names[i] for i, s in enumerate(slices) if any(r.crossfit for r in blocks.runs[s])]
    seeded = [names[i] for i, sets in enumerate(replicates) if any(len(at) > 1 for at in sets)]
    comparison = Comparison(names[0], split, resamples, seed, rows, len(blocks.sizes), crossfit, seeded)
    per_fold = _per_fold(whole[:, :, 0], blocks, slices) if len(blocks.sizes) > 1 else None
    test_rows = float(np.mean(blocks.sizes))  # a fold's rows; its model trained on the others'
    for i, name in enumerate(names[1:], start=1):
        for j, metric in enumerate(metrics):
            diff = draws[i, j] - draws[0, j]
            low, high = (float(x) for x in np.percentile(diff, [2.5, 97.5]))
            below, above = int((diff <= 0).sum()), int((diff >= 0).sum())
            p = min(1.0, 2 * (min(below, above) + 1) / (resamples + 1))
            delta = float(observed[i, j] - observed[0, j])
            difference = Difference(name, metric, delta, low, high, p)
            if per_fold is not None:
                fold_differences = per_fold[i, :, j] - per_fold[0, :, j]
                _, difference.p_folds = corrected_t(fold_differences, test_rows, rows - test_rows)
            comparison.differences.append(difference)
    holm(comparison.differences)
    return comparison


def _per_fold(each: np.ndarray, blocks: Blocks, slices) -> np.ndarray:
    """(sides, folds, metrics): each side's metric on each fold's rows, the mean of its runs there
    (`each`: (runs, metrics), every run on all its rows)."""
    out = np.full((len(slices), len(blocks.sizes), each.shape[1]), np.nan)
    for side, s in enumerate(slices):
        for fold in range(len(blocks.sizes)):
            at = [r for r in range(s.start, s.stop) if blocks.of_run[r] == fold]
            out[side, fold] = each[at].mean(axis=0) if at else np.nan
    return out


def _replicates(of_run: list[int]) -> list[list[int]]:
    """A side's runs (their positions in it) by the block they were evaluated on: one set of seeds
    for runs of one split, one run per fold for a group of folds."""
    sets: dict[int, list[int]] = {}
    for i, block in enumerate(of_run):
        sets.setdefault(block, []).append(i)
    return list(sets.values())


def holm(differences: list[Difference]) -> None:
    """Holm's step-down adjustment of every (judged) p-value; `significant` when the adjusted p < ALPHA."""
    order = sorted(range(len(differences)), key=lambda i: differences[i].judged)
    m, running = len(differences), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * differences[i].judged))
        differences[i].p_holm = float(running)
        differences[i].significant = bool(running < ALPHA)

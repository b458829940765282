"""Is a difference real? A paired bootstrap over the evaluated rows, against a baseline.

Protocol (said under every table that shows it): the rows of the split are resampled with
replacement, the same resample for every run (paired); each run's metric is computed on each
resample; a group of replicates counts as the mean of its seeds' metrics on the same resample.
The 95% interval is the percentile interval of the difference to the baseline, the p-value the
two-sided bootstrap p-value (twice the smaller share of resampled differences on either side of
0), and "significant" means a Holm-adjusted p below 0.05 over every (run, metric) comparison in the
table. Deterministic given the seed; vectorised (`peftspec.metrics.resampled`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from peftspec.errors import UserError
from peftspec.metrics.resampled import METRIC_OF, row_table, tallies
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


@dataclass
class Difference:
    """One run's (or group's) difference to the baseline on one metric."""

    name: str
    metric: str
    delta: float
    low: float
    high: float
    p: float
    p_holm: float = 1.0
    significant: bool = False


@dataclass
class Comparison:
    baseline: str
    split: str
    resamples: int
    seed: int
    rows: int
    differences: list[Difference] = field(default_factory=list)

    def protocol(self) -> str:
        """One sentence for under the table."""
        return (
            f"Differences to {self.baseline} on {self.split} ({self.rows:,} rows): paired bootstrap, "
            f"{self.resamples:,} resamples of the rows (seed {self.seed}), a group as the mean of its "
            "runs (seeds or folds) on each resample; 95% percentile intervals, two-sided bootstrap "
            f"p-values, * = significant at {ALPHA} after Holm's correction for "
            f"{len(self.differences)} comparisons."
        )


def evaluated(run: Run, split: str) -> Evaluated:
    """The run's recorded decisions on `split` (predictions.parquet, or an extra evaluation's)."""
    frame = run.predictions()
    if frame is not None and split in set(frame["split"].unique().to_list()):
        frame = frame.filter(frame["split"] == split)
    else:
        frame = run.predictions(split) if split not in ("validation", "test") else None
    if frame is None or frame.height == 0:
        raise NoPredictions(
            f"{run.name} has no recorded predictions on {split}, so no difference has an interval "
            "(significance needs every run's predictions, written when a run completes)"
        )
    gold = np.asarray(frame["gold"].to_list())
    pred = np.asarray(frame["predicted"].to_list())
    texts = frame["text"].to_list()
    if "pair" in frame.columns:  # a run on text pairs: a row is both texts
        texts = [(text, pair) for text, pair in zip(texts, frame["pair"].to_list())]
    return Evaluated(run.name, [str(i) for i in frame["id"].to_list()], texts, gold, pred)


def paired(sides: list[Evaluated]) -> list[Evaluated]:
    """The same rows in the same order for every run, or `Unpaired` naming the first difference."""
    first = sides[0]
    out = [first]
    for side in sides[1:]:
        if side.ids != first.ids:
            if sorted(side.ids) != sorted(first.ids) or len(set(first.ids)) != len(first.ids):
                only = sorted(set(side.ids) ^ set(first.ids))[:3]
                raise Unpaired(
                    f"{side.run} and {first.run} were evaluated on different rows ({len(side.ids):,} "
                    f"against {len(first.ids):,}; ids in one only: {only or 'repeated ids'})",
                    hint="compare runs evaluated on the same split of the same data",
                )
            order = {row_id: i for i, row_id in enumerate(side.ids)}
            pick = [order[row_id] for row_id in first.ids]
            side = Evaluated(
                side.run, first.ids, [side.texts[i] for i in pick], side.gold[pick], side.pred[pick]
            )
        if side.texts != first.texts or not np.array_equal(side.gold, first.gold):
            raise Unpaired(
                f"{side.run} and {first.run} share row ids but not their texts or gold labels: "
                "they were evaluated on different data",
                hint="compare runs of the same data files",
            )
        out.append(side)
    return out


def resample_counts(rows: int, resamples: int, seed: int, chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """How often each row is drawn in each resample, `chunk` resamples at a time (B, rows)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < resamples:
        b = min(chunk, resamples - done)
        draws = rng.integers(0, rows, size=(b, rows)) + (np.arange(b)[:, None] * rows)
        yield np.bincount(draws.ravel(), minlength=b * rows).reshape(b, rows)
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
    """Each of `others` (a name -> its runs: one, or a group's replicates) against `baseline` (one
    run or a group) on every metric in `metrics`."""
    names = [baseline_name or baseline[0].name, *others]
    members = [baseline, *others.values()]
    sides = paired([evaluated(run, split) for side in members for run in side])
    tables = [row_table(s.gold, s.pred, task, classes) for s in sides]
    slices, at = [], 0
    for side in members:
        slices.append(slice(at, at + len(side)))
        at += len(side)
    metrics = [m for m in metrics if m in METRIC_OF]
    rows = len(sides[0].ids)

    def side_values(counts: np.ndarray) -> np.ndarray:
        """(sides, metrics, B): each side's metric on each resample (a group: the seeds' mean)."""
        per_run = np.stack(
            [np.stack([METRIC_OF[m](t) for m in metrics]) for t in (tallies(tb, counts) for tb in tables)]
        )
        return np.stack([per_run[s].mean(axis=0) for s in slices])

    observed = side_values(np.ones((1, rows), dtype=np.int64))[:, :, 0]
    draws = np.concatenate([side_values(c) for c in resample_counts(rows, resamples, seed)], axis=2)
    comparison = Comparison(names[0], split, resamples, seed, rows)
    for i, name in enumerate(names[1:], start=1):
        for j, metric in enumerate(metrics):
            diff = draws[i, j] - draws[0, j]
            low, high = (float(x) for x in np.percentile(diff, [2.5, 97.5]))
            below, above = int((diff <= 0).sum()), int((diff >= 0).sum())
            p = min(1.0, 2 * (min(below, above) + 1) / (resamples + 1))
            delta = float(observed[i, j] - observed[0, j])
            comparison.differences.append(Difference(name, metric, delta, low, high, p))
    holm(comparison.differences)
    return comparison


def holm(differences: list[Difference]) -> None:
    """Holm's step-down adjustment of every p-value; `significant` when the adjusted p < ALPHA."""
    order = sorted(range(len(differences)), key=lambda i: differences[i].p)
    m, running = len(differences), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * differences[i].p))
        differences[i].p_holm = float(running)
        differences[i].significant = bool(running < ALPHA)


HEADER = ["run", "metric", "difference", "95% interval", "p", "p (Holm)", "significant"]
NUMERIC = [False, False, True, True, True, True, True]
"""Which of HEADER's columns are right-aligned numbers."""


def table_rows(comparison: Comparison) -> list[list[str]]:
    """The comparison as table cells, one row per (run, metric)."""
    from peftspec.metrics.registry import METRICS

    return [
        [
            d.name,
            METRICS[d.metric].title if d.metric in METRICS else d.metric,
            f"{d.delta:+.4f}",
            f"[{d.low:+.4f}, {d.high:+.4f}]",
            f"{d.p:.4f}",
            f"{d.p_holm:.4f}",
            "yes *" if d.significant else "no",
        ]
        for d in comparison.differences
    ]


def attach(rows: list[dict], comparison: Comparison) -> None:
    """Flat `<metric>_low`, `_high`, `_p`, `_p_holm`, `_significant` keys on each compared row (for
    JSON and CSV), matched by the row's `name`."""
    by_name = {row["name"]: row for row in rows}
    for d in comparison.differences:
        row = by_name.get(d.name)
        if row is not None:
            row.update(
                {
                    f"{d.metric}_low": d.low,
                    f"{d.metric}_high": d.high,
                    f"{d.metric}_p": d.p,
                    f"{d.metric}_p_holm": d.p_holm,
                    f"{d.metric}_significant": d.significant,
                }
            )

"""PNG figures for reports: learning curves, confusion heatmaps and reliability diagrams (matplotlib,
no display)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from peftspec.metrics.registry import headline_metrics
from peftspec.runs import Run
from peftspec.runs.stream import number, step_of

DPI = 100
FEW_POINTS = 20
"""Up to this many training-loss points are drawn with markers (one point alone has no line)."""
GRID_COLUMNS = 4
CELL_INCHES = (2.6, 2.4)


SPARSE_FROM = 11
"""A confusion matrix of this many classes or more leaves its empty cells blank (no `0 / 0%`)."""


def _pyplot():
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # a label with an emoji or a script the font lacks is drawn with a box for that glyph, which is
    # all a report can do; matplotlib's warning about each glyph would only clutter the terminal
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
    return plt


def curves(run: Run, path: Path) -> Path:
    """Train and eval loss against step; each evaluation metric against step."""
    plt = _pyplot()
    fig, (loss_ax, metric_ax) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=DPI)
    if run.train_losses():
        steps, losses = zip(*run.train_losses())
        few = len(steps) <= FEW_POINTS  # a line through one point draws nothing: mark the points
        loss_ax.plot(steps, losses, "o-" if few else "-", label="train loss", linewidth=1.2, markersize=3)
    evals = [e for e in run.stream.evals if number(e.get("loss")) is not None]
    if evals:
        loss_ax.plot([step_of(e) for e in evals], [e["loss"] for e in evals], "o-", label="validation loss")
    loss_ax.set(xlabel="step", ylabel="loss", title="Loss")
    loss_ax.legend(loc="best", fontsize=8)
    for name in headline_metrics():
        points = [(step_of(e), e[name]) for e in run.stream.evals if number(e.get(name)) is not None]
        if points:
            metric_ax.plot(*zip(*points), "o-", label=name, markersize=3)
    metric_ax.set(xlabel="step", ylabel="score", title="Validation metrics", ylim=(0, 1.04))  # 1.0 whole
    if metric_ax.lines:
        metric_ax.legend(loc="best", fontsize=8)
    from matplotlib.ticker import MaxNLocator

    for ax in (loss_ax, metric_ax):  # steps are whole numbers, however few
        low, high = ax.get_xlim()
        if high - low < 2:  # one step alone: a step either side, so the ticks can be whole
            ax.set_xlim((low + high) / 2 - 1, (low + high) / 2 + 1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return save_figure(fig, path)


def confusion_grid_shape(labels: int) -> tuple[int, int]:
    """(rows, columns) of the per-label grid, and so the image size: columns x 260 by rows x 240 px."""
    return math.ceil(labels / GRID_COLUMNS), min(labels, GRID_COLUMNS)


def confusion_per_label(confusion: dict[str, Any], per_label: dict[str, Any], path: Path) -> Path:
    """A 2x2 heatmap per label, worst F1 first, with counts and row rates."""
    plt = _pyplot()
    names = sorted(confusion["matrices"], key=lambda n: (per_label.get(n) or {}).get("f1", 0.0))
    rows, cols = confusion_grid_shape(len(names))
    fig, axes = plt.subplots(
        rows, cols, figsize=(cols * CELL_INCHES[0], rows * CELL_INCHES[1]), dpi=DPI, squeeze=False
    )
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names):
        matrix = confusion["matrices"][name]
        f1 = (per_label.get(name) or {}).get("f1")
        _heatmap(ax, matrix, ["not", "is"], f"{name}" + (f" (F1 {f1:.2f})" if f1 is not None else ""))
    fig.tight_layout()
    return save_figure(fig, path)


def confusion_matrix(confusion: dict[str, Any], path: Path) -> Path:
    """One NxN heatmap, rows = gold, columns = predicted, coloured by row rate."""
    plt = _pyplot()
    labels = confusion["labels"]
    size = max(4.0, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size), dpi=DPI)
    sparse = len(labels) >= SPARSE_FROM
    title = "Confusion matrix (rows = gold" + ("; blank = 0)" if sparse else ")")
    _heatmap(ax, confusion["matrix"], labels, title, sparse)
    fig.tight_layout()
    return save_figure(fig, path)


def _heatmap(ax, matrix: list[list[int]], labels: list[str], title: str, sparse: bool = False) -> None:
    """Counts and row rates in each cell; `sparse`: empty cells are left blank."""
    import numpy as np

    counts = np.asarray(matrix, dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(counts):
        if sparse and count == 0:
            continue
        colour = "white" if rates[i, j] > 0.6 else "black"
        ax.text(j, i, f"{int(count)}\n{rates[i, j]:.0%}", ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(
        range(len(labels)),
        labels,
        rotation=45 if len(labels) > 2 else 0,
        ha="right" if len(labels) > 2 else "center",
        fontsize=8,
    )
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("gold", fontsize=8)
    ax.set_title(title, fontsize=9)


def reliability(rows: list[tuple[str, Any, float]], path: Path) -> Path:
    """A reliability diagram: for each (name, `calibration.Reliability`, ECE), each bin's share of
    outcomes that happened against its mean score, over the diagonal; below, each bin's share of
    the scores (where the model puts them)."""
    plt = _pyplot()
    fig, (ax, share_ax) = plt.subplots(
        2, 1, figsize=(5.2, 5.6), dpi=DPI, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1, label="calibrated")
    for name, table, ece in rows:
        label = f"{name} (ECE {ece:.3f})" if ece == ece else name
        (line,) = ax.plot(table.score, table.observed, "o-", markersize=3, linewidth=1.2, label=label)
        share_ax.plot(
            table.score, table.count / max(table.total, 1), "o-", markersize=2, color=line.get_color()
        )
    ax.set(ylabel="share that came true", title="Reliability", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="upper left", fontsize=7)
    share_ax.set(xlabel="score", ylabel="share of scores", yscale="log")
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig, path: Path, dpi: int = DPI) -> Path:
    """`path` (PNG) and its vector PDF twin, for report.tex and papers, then close the figure. The
    PDF has no creation date, so a report made again from the same runs is the same bytes (and a
    report kept in git changes only when its figures do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    fig.savefig(path.with_suffix(".pdf"), metadata={"CreationDate": None})
    _pyplot().close(fig)
    return path

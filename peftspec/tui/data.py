"""What the TUI's tables show, read from run directories through `peftspec.runs` (never torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from peftspec.metrics.registry import headline_metrics
from peftspec.runs import Run, group_label, mean_sd, read_run
from peftspec.runs.groups import named_by
from peftspec.runs.reader import fixed_threshold
from peftspec.runs.stream import number

KEY_METRICS = [m for m in headline_metrics() if m != "subset_accuracy"]
"""The runs list's metric columns; `accuracy` shows subset accuracy on multi-label runs."""


@dataclass
class RunRow:
    """One line of the runs table."""

    path: Path
    name: str
    status: str
    backbone: str
    adapter: str
    quantization: str
    started: str
    duration_s: float | None
    best: dict[str, float | None]
    scored: str = "@0.5"
    """How the metric figures were decided: `tuned` (the final evaluation, thresholds tuned on
    validation), `@0.5` (during training, or a fixed threshold of 0.5), `@0.3` (another fixed one)."""
    group: str | None = None
    """The id of the group of replicates the run belongs to (`peftspec run --seeds`)."""
    group_unit: str = "seeds"
    """What the group's runs differ in: `seeds`, or `folds` (`peftspec run --folds`)."""
    group_size: int | None = None
    """How many runs the group was started with."""
    members: list[RunRow] = field(default_factory=list)
    """For a group's row: its runs (its figures are their mean, `spread` their deviation)."""
    spread: dict[str, float | None] = field(default_factory=dict)
    display: str = ""
    """The spec's name (groups are named after it)."""

    @property
    def key(self) -> str:
        """What identifies the row in the table: the run's folder, or the group."""
        return f"group:{self.group}" if self.members else self.name

    def value(self, key: str) -> Any:
        return self.best.get(key) if key in KEY_METRICS else getattr(self, key, None)


def load_row(path: Path) -> RunRow:
    run = read_run(path)
    record = run.record
    final = _best_from_eval(run)
    best = final or _best_from_log(run)
    return RunRow(
        path,
        run.name,
        run.status,
        str(record.backbone or "-"),
        str(record.adapter or "-"),
        str(record.quantization or "-"),
        _short_time(record.started_at),
        record.duration_s,
        best,
        _scored(run) if final else "@0.5",  # in-training evaluations decide at 0.5
        record.group.id if record.group else None,
        group_unit=record.group.unit if record.group else "seeds",
        group_size=record.group.size if record.group else None,
        display=run.display_name,
    )


def group_rows(rows: list[RunRow]) -> list[RunRow]:
    """`rows` with the runs of each group of replicates folded into one row: name `spec (3
    seeds)`, each figure the mean of its seeds (`spread`: their standard deviation), the status
    shared or `running` while any runs; single runs as they are."""
    out: list[RunRow] = []
    groups: dict[str, list[RunRow]] = {}
    for row in rows:
        if row.group is None:
            out.append(row)
        else:
            groups.setdefault(row.group, []).append(row)
    for group, members in groups.items():
        if len(members) == 1:
            out.append(members[0])
            continue
        first = members[0]
        statuses = {m.status for m in members}
        means, spread = {}, {}
        for key in KEY_METRICS:
            means[key], spread[key] = mean_sd([m.best[key] for m in members if m.best.get(key) is not None])
        durations = [m.duration_s for m in members if m.duration_s is not None]
        out.append(
            RunRow(
                first.path,
                group_label(
                    named_by(group, first.display or first.name),
                    len(members),
                    first.group_unit,
                    first.group_size,
                ),
                statuses.pop() if len(statuses) == 1 else ("running" if "running" in statuses else "mixed"),
                first.backbone,
                first.adapter,
                first.quantization,
                min(m.started for m in members),
                sum(durations) if durations else None,
                means,
                "/".join(sorted({m.scored for m in members})),
                group,
                group_unit=first.group_unit,
                group_size=first.group_size,
                members=members,
                spread=spread,
                display=first.display,
            )
        )
    return out


def _scored(run: Run) -> str:
    thresholds = run.thresholds_used()
    if thresholds.get("mode") in ("tuned", "argmax"):
        return thresholds["mode"]
    cut = fixed_threshold(thresholds)
    return f"@{cut:g}" if cut is not None else ("fixed" if thresholds.get("values") else "-")


def _best_from_eval(run: Run) -> dict[str, float | None]:
    validation = run.split_metrics("validation")
    metrics = {
        k: number(
            validation.get("subset_accuracy" if k == "accuracy" and "accuracy" not in validation else k)
        )
        for k in KEY_METRICS
    }
    return metrics if any(v is not None for v in metrics.values()) else {}


def _best_from_log(run: Run) -> dict[str, float | None]:
    evals = run.stream.evals
    out: dict[str, float | None] = {}
    for key in KEY_METRICS:
        source = "subset_accuracy" if key == "accuracy" else key
        values = [r.get(key, r.get(source)) for r in evals]
        values = [v for v in map(number, values) if v is not None]
        out[key] = max(values) if values else None
    return out


def fit_columns(widths: dict[str, int], priority: list[str], available: int) -> list[str]:
    """The columns to show in `available` cells: taken in `priority` order while they fit (each
    `widths[key]` wide, padding included), returned in `widths`' own order. The first column is
    always shown."""
    chosen, used = set(), 0
    for key in priority:
        if key in widths and (not chosen or used + widths[key] <= available):
            chosen.add(key)
            used += widths[key]
    return [key for key in widths if key in chosen]


def _short_time(stamp: str | None) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return "-"


def duration_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def downsample(xs: list[float], ys: list[float], width: int) -> tuple[list[float], list[float]]:
    """At most `width` points, evenly spaced: redraws stay cheap however long the run."""
    if len(xs) <= width or width < 2:
        return xs, ys
    step = (len(xs) - 1) / (width - 1)
    picks = sorted({round(i * step) for i in range(width)})
    return [xs[i] for i in picks], [ys[i] for i in picks]

"""`peftspec runs`: what each run is doing, as a table for people or JSON for scripts (which runs
crashed and how to resume them, which completed and where). One row builder serves both."""

from __future__ import annotations

import json
from typing import Any

from peftspec.runs.checkpoints import checkpoint_folders
from peftspec.runs.groups import member
from peftspec.runs.reader import Run


def run_row(run: Run) -> dict[str, Any]:
    """One run's listing: name, path, status, steps, times, checkpoints, what it trained, why it
    stopped and how to resume it when it can be."""
    record, step = run.record, run.last_step
    overview = record.overview
    total = (overview.total_steps if overview else None) or record.max_steps
    checkpoints = len(checkpoint_folders(run.paths.checkpoints))
    resumable = run.status in ("interrupted", "crashed", "failed") and checkpoints > 0
    return {
        "name": run.name,
        "path": str(run.path),
        "spec": record.name,
        "status": run.status,
        "step": step,
        "total_steps": total,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "checkpoints": checkpoints,
        "backbone": record.backbone,
        "adapter": record.adapter,
        "group": record.group.id if record.group else None,
        "member": member(run),
        "error": record.error.message if record.error and run.status != "completed" else None,
        "resume": f"peftspec run --resume {run.path}" if resumable else None,
    }


def runs_json(runs: list[Run]) -> str:
    """The listing of `runs` as a JSON array, one object per run (`run_row`)."""
    return json.dumps([run_row(run) for run in runs], indent=2)


def runs_table(runs: list[Run], root: str, width: int | None = None):
    """Each run's status, how far it got, when it started and how many checkpoints it keeps, a
    line each, and the group of replicates each belongs to (`quickstart-g20260301T120000Z fold 2`,
    its id names the whole group to `compare` and `report`). In a terminal narrower than `width`
    needs for every column, the start time (which each run's name also holds), then the group, is
    left out rather than the name cut or a row wrapped."""
    from rich.table import Table
    from rich.text import Text

    grouped = any(run.record.group and run.record.group.id for run in runs)
    headers = ["run", "status", "steps", *(["group"] if grouped else []), "started (UTC)", "checkpoints"]
    rows = []
    for row in map(run_row, runs):
        step, total = row["step"] or 0, row["total_steps"]
        started = (row["started_at"] or "-")[:16].replace("T", " ")  # to the minute, as the TUI
        group = [f"{row['group']} {row['member']}" if row["group"] else "-"] if grouped else []
        rows.append(
            [
                row["name"],
                row["status"],
                f"{step}/{total}" if total else str(step),
                *group,
                started,
                str(row["checkpoints"]),
            ]
        )
    widths = dict(zip(headers, (max(len(cell) for cell in column) for column in zip(headers, *rows))))
    keep = list(headers)
    for optional in ("started (UTC)", "group"):  # left out, in this order, where the width is short
        # each column: its widest cell, a space either side and a border; then the closing border
        if width is not None and 1 + sum(3 + widths[h] for h in keep) > width and optional in keep:
            keep.remove(optional)
    keep = [headers.index(h) for h in keep]
    table = Table(title=Text(f"{len(runs)} run(s) in {root}"), title_justify="left")
    table.add_column(headers[0], no_wrap=True, min_width=widths["run"])  # the name gets copied: whole
    for i in keep[1:]:
        table.add_column(headers[i], no_wrap=True)
    for row in rows:
        table.add_row(*(Text(row[i]) for i in keep))
    return table

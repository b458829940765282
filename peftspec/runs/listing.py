"""`peftspec runs`: what each run is doing, as a table for people or JSON for scripts (which runs
crashed and how to resume them, which completed and where). One row builder serves both."""

from __future__ import annotations

import json
from typing import Any

from peftspec.runs.checkpoints import checkpoint_folders
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
        "error": record.error.message if record.error and run.status != "completed" else None,
        "resume": f"peftspec run --resume {run.path}" if resumable else None,
    }


def runs_json(runs: list[Run]) -> str:
    """The listing of `runs` as a JSON array, one object per run (`run_row`)."""
    return json.dumps([run_row(run) for run in runs], indent=2)


def runs_table(runs: list[Run], root: str, width: int | None = None):
    """Each run's status, how far it got, when it started and how many checkpoints it keeps, a
    line each. In a terminal narrower than `width` needs for every column, the start time (which
    each run's name also holds) is left out rather than the name cut or a row wrapped."""
    from rich.table import Table
    from rich.text import Text

    headers = ["run", "status", "steps", "started (UTC)", "checkpoints"]
    rows = []
    for row in map(run_row, runs):
        step, total = row["step"] or 0, row["total_steps"]
        started = (row["started_at"] or "-")[:16].replace("T", " ")  # to the minute, as the TUI
        rows.append(
            [
                row["name"],
                row["status"],
                f"{step}/{total}" if total else str(step),
                started,
                str(row["checkpoints"]),
            ]
        )
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    # each column: its widest cell, a space either side and a border; then the closing border
    fits = width is None or 1 + sum(3 + w for w in widths) <= width
    keep = [i for i, header in enumerate(headers) if fits or header != "started (UTC)"]
    table = Table(title=Text(f"{len(runs)} run(s) in {root}"), title_justify="left")
    table.add_column(headers[0], no_wrap=True, min_width=widths[0])  # the name gets copied: whole
    for i in keep[1:]:
        table.add_column(headers[i], no_wrap=True)
    for row in rows:
        table.add_row(*(Text(row[i]) for i in keep))
    return table

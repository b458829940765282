"""`peftspec runs [--gc]`: the table of runs, and which checkpoints a completed run no longer needs
(all but the best and the latest), so a disk full of runs can be trimmed without touching anything
a run or resume uses."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from peftspec.runs.checkpoints import checkpoint_folders
from peftspec.runs.reader import Run


@dataclass
class Removal:
    run: str
    folder: Path
    size: int


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def removable(run: Run) -> list[Removal]:
    """Checkpoints of a completed run other than its best and its latest; nothing for other runs
    (an interrupted or crashed run resumes from its checkpoints)."""
    if run.status != "completed":
        return []
    folders = checkpoint_folders(run.paths.checkpoints)
    if not folders:
        return []
    keep = {folders[0][1].name}  # the latest
    best = run.record.best.checkpoint if run.record.best else None
    if best:
        keep.add(Path(best).name)
    return [Removal(run.name, f, folder_size(f)) for _, f in folders if f.name not in keep]


def collect(removals: list[Removal]) -> None:
    for removal in removals:
        shutil.rmtree(removal.folder)


def runs_table(runs: list[Run], root: str, width: int | None = None):
    """Each run's status, how far it got, when it started and how many checkpoints it keeps, a
    line each. In a terminal narrower than `width` needs for every column, the start time (which
    each run's name also holds) is left out rather than the name cut or a row wrapped."""
    from rich.table import Table
    from rich.text import Text

    headers = ["run", "status", "steps", "started (UTC)", "checkpoints"]
    rows = []
    for run in runs:
        step = run.last_step or 0
        overview = run.record.overview
        total = (overview.total_steps if overview else None) or run.record.max_steps
        count = len(checkpoint_folders(run.paths.checkpoints))
        started = (run.record.started_at or "-")[:16].replace("T", " ")  # to the minute, as the TUI
        rows.append([run.name, run.status, f"{step}/{total}" if total else str(step), started, str(count)])
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

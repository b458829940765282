"""`peftspec runs --gc`: which checkpoints a completed run no longer needs
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

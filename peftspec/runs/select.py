"""Which runs a command means: a run directory, a run name prefix, or a glob."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from peftspec.errors import UsageError
from peftspec.runs.layout import is_run_dir as _is_run


class RunNotFound(UsageError):
    """A RUN argument that names no run directory."""

    title = "no such run"


def resolve_runs(arguments: list[str], root: str | os.PathLike = "runs") -> list[Path]:
    """Run directories for each argument, in order, without duplicates.

    An argument is a run directory, a glob (`runs/qwen-*`), or a prefix of a run name under `root`.
    """
    found: list[Path] = []
    for arg in arguments:
        matches = _match(arg, Path(root))
        if not matches:
            raise RunNotFound(f"{arg!r} matches no run directory (looked in {root} for a run name prefix)")
        found += matches
    return list(dict.fromkeys(found))


def _match(arg: str, root: Path) -> list[Path]:
    path = Path(arg)
    if _is_run(path):
        return [path]
    if any(ch in arg for ch in "*?["):
        return sorted(p for p in map(Path, glob.glob(arg)) if _is_run(p))
    if root.is_dir():
        return sorted(p for p in root.iterdir() if p.name.startswith(arg) and _is_run(p))
    return []


def short_names(runs) -> dict[str, str]:
    """A short name per run, keyed by folder name, for tables people read: the spec's name; where
    several runs share it, with the start time (`quickstart 03-01 12:00`); where even that is
    shared, the folder name."""
    from collections import Counter

    base = {run.name: run.display_name for run in runs}
    counts = Counter(base.values())
    names = {}
    for run in runs:
        name = base[run.name]
        if counts[name] > 1:
            stamp = (run.record.started_at or "")[5:16].replace("T", " ")
            name = f"{name} {stamp}" if stamp else run.name
        names[run.name] = name
    repeated = Counter(names.values())
    return {folder: (folder if repeated[name] > 1 else name) for folder, name in names.items()}

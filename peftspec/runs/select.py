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

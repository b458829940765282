"""Which runs a command means: a run directory, a run name prefix, a glob, or a group's id."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from peftspec.errors import UsageError
from peftspec.runs.groups import GROUP_ID, member, named_by
from peftspec.runs.layout import is_run_dir as _is_run


class RunNotFound(UsageError):
    """A RUN argument that names no run directory."""

    title = "no such run"


def resolve_runs(arguments: list[str], root: str | os.PathLike = "runs") -> list[Path]:
    """Run directories for each argument, in order, without duplicates.

    An argument is a run directory, a glob (`runs/qwen-*`), a prefix of a run name under `root`,
    the id of a group of replicates under `root` (`quickstart-g20260301T120000Z`: its seeds or
    folds), or `STUDY:best`, the run of a sweep's best completed trial.
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
    if arg.endswith(":best") and not path.exists():
        best = best_trial(arg.removesuffix(":best"), root)
        if best is None:
            return []
        return _with_group(best, root)
    if any(ch in arg for ch in "*?["):
        return sorted(p for p in map(Path, glob.glob(arg)) if _is_run(p))
    if not root.is_dir():
        return []
    if GROUP_ID.search(arg) and not path.exists():
        return group_members(arg, root)
    return sorted(p for p in root.iterdir() if p.name.startswith(arg) and _is_run(p))


def group_members(group_id: str, root: Path) -> list[Path]:
    """The runs under `root` recorded as members of group `group_id`, in folder order: first among
    the folders named after the group's spec, then (runs renamed or moved in) among all."""
    return [run.path for run in group_runs(group_id, root)]


def group_runs(group_id: str, root: Path) -> list:
    """`group_members`, each run read (once)."""
    from peftspec.runs.reader import read_run

    folders = [p for p in sorted(root.iterdir()) if _is_run(p)]
    named = named_by(group_id, "")
    for candidates in ([p for p in folders if p.name.startswith(named)], folders):
        runs = [read_run(p) for p in candidates]
        found = [r for r in runs if r.record.group is not None and r.record.group.id == group_id]
        if found:
            return found
    return []


def _with_group(run: Path, root: Path) -> list[Path]:
    """`run`, or all the runs of its group (a cross-validated trial's folds)."""
    from peftspec.runs.reader import read_run

    group = read_run(run).record.group
    return (group_members(group.id, root) or [run]) if group is not None and group.id else [run]


def best_trial(study: str, root: Path) -> Path | None:
    """The run of the best completed trial of sweep `study` among the runs under `root` (each
    trial's run records its study, state, value and direction; a cross-validated trial's runs each
    record the trial's value, and `STUDY:best` names all of them)."""
    from peftspec.runs.reader import read_run

    done = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not _is_run(folder):
            continue
        trial = read_run(folder).record.trial or {}
        value = trial.get("value")
        if (
            trial.get("study") == study
            and trial.get("state") == "complete"
            and isinstance(value, int | float)
        ):
            sign = -1.0 if trial.get("direction") == "minimize" else 1.0
            done.append((sign * value, -int(trial.get("number") or 0), folder))
    return max(done)[2] if done else None


def short_names(runs) -> dict[str, str]:
    """A short name per run, keyed by folder name, for tables people read: the spec's name, and a
    run of a group its place in it (`quickstart fold 2`, `quickstart seed 1`); where several runs
    share that, with the start time (`quickstart 03-01 12:00`); where even that is shared, the
    folder name."""
    from collections import Counter

    base = {}
    for run in runs:
        place = member(run)
        group = run.record.group
        base[run.name] = f"{named_by(group.id, run.display_name)} {place}" if place else run.display_name
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

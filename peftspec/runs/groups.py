"""Groups of replicates: runs of one spec that differ only in their seed (or in the fold they
validate on), counted as one wherever runs are compared (`RunRecord.group`)."""

from __future__ import annotations

import re

from peftspec.runs.reader import Run


def grouped(runs: list[Run]) -> list[list[Run]]:
    """`runs` with the members of each group together, in the order each group first appears; a
    run of no group is a group of one. Members keep their group order (`group.index`)."""
    out: dict[str, list[Run]] = {}
    for run in runs:
        group = run.record.group
        key = f"group:{group.id}" if group is not None and group.id else f"run:{run.name}"
        out.setdefault(key, []).append(run)
    for members in out.values():
        members.sort(key=lambda r: (r.record.group.index or 0) if r.record.group else 0)
    return list(out.values())


def group_name(members: list[Run]) -> str:
    """How tables name a group: `quickstart (3 seeds)`, `quickstart (5 folds)`, a cross-validated
    sweep trial `quickstart-sweep-t002 (5 folds)`, one stopped part way `quickstart (2 of 5 folds)`;
    a single run keeps its own name."""
    if len(members) == 1:
        return members[0].display_name
    group = members[0].record.group
    name = named_by(group.id if group else None, members[0].display_name)
    return group_label(name, len(members), group.unit if group else "seeds", group.size if group else None)


GROUP_ID = re.compile(r"-g(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$")
"""How a group's id ends: `peftspec run --seeds/--folds` (and a cross-validated sweep trial) names
it `<name>-g<start time>` (UTC: year, month, day, hour, minute, second)."""


def named_by(group_id: str | None, fallback: str) -> str:
    """The name a group's id starts with (the spec's, or a sweep trial's `NAME-tNNN`), else
    `fallback`."""
    found = GROUP_ID.search(group_id or "")
    return group_id[: found.start()] if found and group_id else fallback


def group_label(name: str, size: int, unit: str = "seeds", of: int | None = None) -> str:
    """`quickstart (5 folds)`; a group with fewer runs than it was started with (stopped part way,
    `peftspec run --resume` goes on with it) says so: `quickstart (2 of 5 folds)`."""
    return f"{name} ({size} of {of} {unit})" if of and size < of else f"{name} ({size} {unit})"


def mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    """A group's figure and its spread: the mean of the seeds that have one, and their sample
    standard deviation (None with fewer than two)."""
    import statistics

    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def fold_group(folds: int) -> dict:
    """The facts of a group of folds (`RunRecord.group`), less its id and size: each run sets
    `dataset.fold`."""
    return {"folds": folds, "varies": ["dataset.fold"]}


def member_sets(facts: dict, index: int) -> list[str]:
    """The `--set`s that make run `index` of a group (`facts`: its record's `folds`, `seeds` and
    `varies`): its fold, or its seed in each key the seeds vary."""
    if facts.get("folds"):
        return [f"dataset.folds={facts['folds']}", f"dataset.fold={index}"]
    return [f"{key}={facts['seeds'][index]}" for key in facts["varies"]]


def group_sets(run: Run) -> list[str]:
    """The run's `--set`s less those that make it its group's member (its fold or seed): what every
    run of its group was given."""
    group = run.record.group
    if group is None or not group.id:
        return list(run.record.overrides)
    own = {s.split("=", 1)[0] for s in member_sets(group.model_dump(), group.index or 0)}
    return [s for s in run.record.overrides if s.split("=", 1)[0] not in own]


def place(facts: dict, index: int, seed: int | None = None) -> str:
    """How run `index` of a group is named: `fold 2`, or `seed 1` (`seed`, else the group's own)."""
    if facts.get("folds"):
        return f"fold {index}"
    return f"seed {facts['seeds'][index] if seed is None else seed}"


def member(run: Run) -> str | None:
    """What the run is in its group: `fold 2` (of `peftspec run --folds`) or `seed 1`; None alone."""
    group = run.record.group
    if group is None or not group.id:
        return None
    return place(group.model_dump(), group.index or 0, run.record.seed)

"""The Python API: what `peftspec run` does, callable from Python (and from `peftspec check`).

Each function takes a validated `Spec` (see `peftspec.spec.load_spec`), compiles it
(`peftspec.build`), trains it (`peftspec.train`) and returns what was recorded; the run directory
is read back with `peftspec.runs.read_run`. Problems the user can fix raise `peftspec.errors.UserError`
subclasses (`DataError`, `ModelError`, `ResumeRefused`, `RunLocked`, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from peftspec.build.compiled import compile_run
from peftspec.build.data import DataBundle
from peftspec.runs import Run
from peftspec.runs.groups import fold_group, group_sets, member_sets, place
from peftspec.spec.root import Spec
from peftspec.train.runner import RunOutcome


def _console(console):
    if console is not None:
        return console
    from rich.console import Console

    return Console()


def _print_data_warnings(compiled, console) -> None:
    """What the data check warned about (a label with no example, repeated ids), before training."""
    from peftspec.report.final import print_warnings

    print_warnings(console, compiled.data.warnings)


def run_spec(
    spec: Spec,
    spec_files: Sequence[str] = (),
    overrides: Sequence[str] = (),
    *,
    dry_run: bool = False,
    data: DataBundle | None = None,
    console=None,
    record: dict | None = None,
) -> RunOutcome:
    """Train `spec` into a new run directory under `tracking.output_root`; returns its paths, the
    overview and the final evaluation. `dry_run`: check the data, build the model, print the
    overview, write nothing. `data`: rows already loaded and checked (unset: the spec's own).
    `record`: more run-record fields to start with (`group`, `trial`)."""
    from peftspec.build.environment import quiet_libraries
    from peftspec.build.hub import check_reachable
    from peftspec.train import start

    quiet_libraries()
    console = _console(console)
    compiled = compile_run(spec, list(spec_files), list(overrides), data)
    check_reachable(spec.backbone)  # before a run directory: an unreachable model is no failed run
    if record:  # validated as the record's own fields
        compiled.record = type(compiled.record).model_validate({**compiled.record.model_dump(), **record})
    _print_data_warnings(compiled, console)
    if dry_run:
        from peftspec.build.overview import render_overview

        overview = compiled.build_model().overview
        console.print(render_overview(overview))
        return RunOutcome(None, overview)
    return start(compiled, console)


def run_file(
    path: str | Path, overrides: Sequence[str] = (), *, dry_run: bool = False, console=None
) -> Run | None:
    """`peftspec run PATH --set KEY=VALUE ...` from Python, with the same checks and output (the
    spec's warnings, the plan, progress, the final table). Returns the recorded run, read back
    (`peftspec.runs.Run`: `.path`, `.status`, `.split_metrics("test")`); None for a dry run."""
    from peftspec.report.final import print_outcome
    from peftspec.runs import read_run
    from peftspec.spec.lint import checked_spec

    console = _console(console)
    loaded = checked_spec(str(path), overrides)
    outcome = run_spec(loaded.spec, loaded.files, list(overrides), dry_run=dry_run, console=console)
    print_outcome(outcome, console)
    return read_run(outcome.paths.root) if outcome.paths is not None else None


def run_replicates(
    spec_file: str,
    overrides: Sequence[str],
    seeds: Sequence[int],
    *,
    vary_split: bool = False,
    console=None,
) -> list[RunOutcome]:
    """Train the spec once per seed (`trainer.seed`, and `dataset.split_seed` with `vary_split`;
    otherwise the validation split stays the same), recorded as one group of replicates that
    `compare`, `report` and the TUI show as one row (mean ± sd). A failed replicate stops the
    group (the runs before it stay recorded); `peftspec run --resume` of an interrupted one goes
    on with the rest (`continue_group`)."""
    facts = {
        "seeds": list(seeds),
        "varies": ["trainer.seed", *(["dataset.split_seed"] if vary_split else [])],
    }
    return _run_group(spec_file, overrides, facts, console)


def run_folds(spec_file: str, overrides: Sequence[str], folds: int, *, console=None) -> list[RunOutcome]:
    """k-fold cross-validation: train the spec once per fold (`dataset.folds = folds`, `dataset.fold`
    0 to folds - 1), each validating on its fold and training on the others, recorded as one group
    (`compare`, `report` and the TUI show its mean ± sd over the folds). A failed fold stops the
    group (the folds before it stay recorded); `peftspec run --resume` of an interrupted one goes
    on with the rest (`continue_group`)."""
    return _run_group(spec_file, overrides, fold_group(folds), console)


def _run_group(spec_file, overrides, facts: dict, console) -> list[RunOutcome]:
    """Each member of the group (`member_sets`) run in turn as one group."""
    from peftspec.runs.layout import utc_now
    from peftspec.spec import check_spec

    console = _console(console)
    size = facts.get("folds") or len(facts["seeds"])
    outcomes: list[RunOutcome] = []
    group_id = None
    for index in range(size):
        sets = [*overrides, *member_sets(facts, index)]
        loaded = check_spec(spec_file, sets)
        if loaded.spec is None:
            from peftspec.spec import SpecError

            raise SpecError(loaded.diagnostics, file=spec_file)
        spec = loaded.spec
        group_id = group_id or f"{spec.name}-g{utc_now():%Y%m%dT%H%M%SZ}"
        group = {"id": group_id, "index": index, "size": size, **facts}
        if "seeds" not in facts:
            group["seeds"] = [spec.trainer.seed] * size
        outcomes.append(_group_member(spec, loaded.files, sets, group, console))
    return outcomes


def _group_member(spec: Spec, files, sets: list[str], group: dict, console, **record) -> RunOutcome:
    """Run `group["index"]` of a group (`record`: more fields for its record); an interrupted one
    says that resuming it finishes the group."""
    from peftspec.train.interrupt import RunInterrupted

    noun = "fold" if group.get("folds") else "replicate"
    console.rule(f"{noun} {group['index'] + 1} of {group['size']}: {place(group, group['index'])}")
    try:
        return run_spec(spec, files, sets, console=console, record={"group": group, **record})
    except RunInterrupted as exc:
        left = group["size"] - group["index"] - 1
        if left:
            exc.hint = f"{exc.hint} (then the group's {left} run(s) not started yet)"
        raise


def continue_group(run_dir: str | Path, *, console=None) -> list[RunOutcome]:
    """After `--resume` of a run of a group (`--seeds`, `--folds`): train the group's runs that were
    never started (the group stopped at the interrupted run), each the resumed run's recorded spec
    with its own fold or seed set, recorded in the same group. A sweep's trials are left to the
    sweep, which goes on with their folds itself."""
    from peftspec.runs import read_run
    from peftspec.runs.select import group_runs
    from peftspec.spec.loader import load_recorded_spec

    run = read_run(run_dir)
    group = run.record.group
    if group is None or not group.id or not group.size or run.record.trial is not None:
        return []
    facts = group.model_dump()
    present = {member.record.group.index for member in group_runs(group.id, run.path.parent)}
    base = group_sets(run)
    console = _console(console)
    outcomes = []
    for index in (i for i in range(group.size) if i not in present):
        sets = member_sets(facts, index)
        spec = load_recorded_spec(run.paths.spec, sets)
        group_facts = {**facts, "index": index}
        outcome = _group_member(
            spec, [], [*base, *sets], group_facts, console, spec_file=run.record.spec_file
        )
        outcomes.append(outcome)
    return outcomes


def resume_run(
    run_dir: str | Path, spec: Spec | None = None, force: Sequence[str] = (), *, console=None
) -> RunOutcome | None:
    """Continue a crashed, killed or interrupted run from its newest complete checkpoint; None when
    it had already completed. `spec`: a changed spec to continue with (unset: the run's own);
    `force`: spec keys (or `data`) allowed to differ from what the run recorded. Under torchrun,
    rank 0 decides and tells the other ranks which checkpoint to continue from."""
    from peftspec.build.environment import quiet_libraries, world
    from peftspec.train.distributed import CheckpointAnnouncement

    quiet_libraries()
    announcement = CheckpointAnnouncement()
    if not world().main:
        return _follow_resume(Path(run_dir), spec, announcement)
    with announcement:  # releases the other ranks when rank 0 refuses
        return _resume_main(Path(run_dir), spec, list(force), announcement, _console(console))


def _resume_main(run_dir: Path, spec: Spec | None, force: list[str], announcement, console):
    from peftspec.build.resume import ResumeRefused, check_data_unchanged, check_spec_changes
    from peftspec.runs import RunLock, is_run_dir, newest_complete, read_run
    from peftspec.spec.loader import load_recorded_spec
    from peftspec.train import resume

    if not is_run_dir(run_dir):
        raise ResumeRefused(f"{run_dir} is not a run directory (it has no run record)")
    with RunLock(run_dir):
        run = read_run(run_dir)
        damaged = [w for w in run.warnings if w.startswith(run.paths.run_json.name)]
        if damaged:
            raise ResumeRefused(
                f"{run.name}'s record cannot be read, so what it trained on cannot be checked",
                problems=damaged,
                hint=f"start the run again: peftspec run {run.record.spec_file or 'SPEC'}",
            )
        if run.record.status == "completed":
            console.print(f"{run.name} already completed; nothing to resume.")
            return None
        recorded = load_recorded_spec(run.paths.spec)
        spec = spec or recorded
        changes = check_spec_changes(recorded, spec, force)
        compiled = compile_run(spec, [], list(run.record.overrides))
        check_data_unchanged(run.record.data_hashes, compiled.data.hashes, force)
        _print_data_warnings(compiled, console)
        scan = newest_complete(run.paths.checkpoints)
        for folder, reason in scan.skipped:
            console.print(f"[yellow]skipping[/] {folder.name}: {reason}", highlight=False)
        if scan.newest is None:
            raise ResumeRefused(
                f"{run.name} has no complete checkpoint to resume from",
                hint=f"start it again: peftspec run {run.record.spec_file or 'SPEC'}",
            )
        announcement.send(str(scan.newest))
        return resume(compiled, run, scan.newest, scan.step, changes, console)


def _follow_resume(run_dir: Path, spec: Spec | None, announcement) -> RunOutcome | None:
    """A rank other than 0: wait for rank 0's decision, then train from the same checkpoint."""
    from peftspec.runs import RunPaths
    from peftspec.spec.loader import load_recorded_spec
    from peftspec.train import follow

    checkpoint = announcement.receive()
    if checkpoint is None:
        return None
    paths = RunPaths(run_dir)
    compiled = compile_run(spec or load_recorded_spec(paths.spec))
    return follow(compiled, paths, resume_from=checkpoint)

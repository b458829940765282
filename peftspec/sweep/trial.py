"""One trial: an ordinary `peftspec run` in its own process, followed while it trains.

Its evaluations are read from the run's metric stream as they are written and reported to the
study; when the pruner says stop, the run gets SIGTERM and stops after its next checkpoint
(`interrupted`, resumable), and the trial is `pruned`. A trial whose worker died is resumed with
`peftspec run --resume RUN`, from its newest complete checkpoint.

A cross-validated trial (`[sweep] folds = K`) is K such runs in turn, one per fold, recorded as one
group; its value is the mean of the folds' figures. The first fold's evaluations are reported to
the pruner (every trial's first fold trains on the same rows); a trial taken over keeps the folds
that completed, resumes the one that was interrupted and runs the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from peftspec.runs import RunWriter, read_run
from peftspec.runs.groups import fold_group, member_sets
from peftspec.runs.stream import number, step_of

TRIAL_ENV = "PEFTSPEC_TRIAL"
"""Set for a trial's `peftspec run`: the trial as JSON, recorded in the run (`RunRecord.trial`)."""
GROUP_ENV = "PEFTSPEC_GROUP"
"""Set for each fold's `peftspec run` of a cross-validated trial: its group as JSON (`RunRecord.group`)."""
RUN_FILE_ENV = "PEFTSPEC_RUN_FILE"
"""Where the trial's `peftspec run` writes its run directory's path (see `peftspec.train.runner`)."""
POLL_S = 0.5


def trial_record() -> dict[str, Any] | None:
    """In a trial's `peftspec run`: the record fields that say which trial it is, and which group
    of folds for a cross-validated trial (else None)."""
    text = os.environ.get(TRIAL_ENV)
    if not text:
        return None
    group = os.environ.get(GROUP_ENV)
    return {"trial": json.loads(text), **({"group": json.loads(group)} if group else {})}


@dataclass
class TrialOutcome:
    state: str
    """complete, pruned, failed, or stopped (the sweep itself was stopped: resumable)."""
    value: float | None = None
    run_dir: str | None = None
    error: str | None = None
    reported: dict[int, float] = field(default_factory=dict)
    group: str | None = None
    """A cross-validated trial's group of runs (its id)."""


@dataclass
class TrialJob:
    spec_file: str
    overrides: list[str]
    """The sweep's own `--set` overrides, then the trial's values."""
    metric: str
    split: str
    record: dict[str, Any]
    """What the run records of its trial (study, number, values)."""
    log: Path
    resume_dir: str | None = None
    output_root: str = "runs"
    """Where the trial's run directory appears (found there by its record when the run cannot say,
    as under torchrun)."""
    run_name: str = ""
    """The start of the trial's run directory's name."""
    folds: int | None = None
    """Cross-validate: one run per fold, the value their mean (`[sweep] folds`)."""
    reports: bool = True
    """Report the run's evaluations to the pruner (a cross-validated trial's first fold only)."""
    group: dict[str, Any] | None = None
    """The group a fold's run records (its id, index, size, folds)."""


def run_trial(job: TrialJob, trial, stop) -> TrialOutcome:
    """Run (or resume) the trial's `peftspec run`, reporting each evaluation of `job.metric` to
    `trial` and pruning when it says so; `stop()` tells whether the sweep itself is stopping. A
    cross-validated trial runs its folds in turn (`run_folds`)."""
    if job.folds:
        return run_folds(job, trial, stop)
    return _run_once(job, trial, stop)


def run_folds(job: TrialJob, trial, stop) -> TrialOutcome:
    """The trial's runs, one per fold, as one group; its value is the mean of theirs. A fold
    whose run already completed (a trial taken over) counts as it is; an unfinished one resumes."""
    from peftspec.runs.layout import utc_now

    group_id = trial.user_attrs.get("group") or f"{job.run_name}-g{utc_now():%Y%m%dT%H%M%SZ}"
    trial.set_user_attr("group", group_id)
    facts = {"id": group_id, "size": job.folds, **fold_group(job.folds)}
    outcomes: list[TrialOutcome] = []
    for fold in range(job.folds):
        part = replace(
            job,
            overrides=[*job.overrides, *member_sets(facts, fold)],
            record={**job.record, "fold": fold},
            resume_dir=None,
            folds=None,
            reports=fold == 0,
            group={**facts, "index": fold},
        )
        earlier = _recorded(part)
        if earlier is not None and read_run(earlier).status == "completed":
            value = final_value(earlier, job.metric, job.split)
            outcome = TrialOutcome("complete" if value is not None else "failed", value, earlier)
        else:
            if earlier is not None and _resumable(earlier):
                part.resume_dir = earlier
            outcome = _run_once(part, trial, stop)
        outcome.group = group_id
        outcomes.append(outcome)
        if outcome.state != "complete":
            _record_folds(outcomes, outcome.state if outcome.state != "stopped" else "running", None)
            return outcome
        _record_folds(outcomes, "running", None)
    value = sum(o.value for o in outcomes) / len(outcomes)
    _record_folds(outcomes, "complete", value)  # STUDY:best ranks the runs by the trial's value
    return TrialOutcome("complete", value, outcomes[-1].run_dir, group=group_id)


def _resumable(run_dir: str) -> bool:
    """Whether a fold's unfinished run can continue from a checkpoint."""
    from peftspec.runs.checkpoints import checkpoint_folders

    run = read_run(run_dir)
    return run.status != "completed" and bool(checkpoint_folders(run.paths.checkpoints))


def _run_once(job: TrialJob, trial, stop) -> TrialOutcome:
    with tempfile.TemporaryDirectory() as tmp:
        run_file = Path(tmp) / "run-dir"
        env = {**os.environ, TRIAL_ENV: json.dumps(job.record), RUN_FILE_ENV: str(run_file)}
        if job.group is not None:
            env[GROUP_ENV] = json.dumps(job.group)
        if job.resume_dir:
            command = [sys.executable, "-m", "peftspec", "run", "--resume", job.resume_dir]
        else:
            command = [
                sys.executable,
                "-m",
                "peftspec",
                "run",
                job.spec_file,
                *(f"--set={s}" for s in job.overrides),
            ]
        job.log.parent.mkdir(parents=True, exist_ok=True)
        with open(job.log, "a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            return _follow(job, trial, process, run_file, stop)


def _follow(job: TrialJob, trial, process: subprocess.Popen, run_file: Path, stop) -> TrialOutcome:
    outcome = TrialOutcome("running", run_dir=job.resume_dir)
    reported = dict(trial.storage.get_trial(trial._trial_id).intermediate_values) if job.resume_dir else {}
    run = None
    pruned = stopping = False
    while True:
        finished = process.poll() is not None
        if outcome.run_dir is None:
            outcome.run_dir = _announced(run_file) or _recorded(job)
            if outcome.run_dir is not None:
                trial.set_user_attr("run_dir", outcome.run_dir)
        if outcome.run_dir is not None and run is None:
            run = read_run(outcome.run_dir)
        if run is not None and job.reports and not pruned and _report(run, job, trial, reported, prune=True):
            pruned = True
            process.send_signal(signal.SIGTERM)  # stops after the next checkpoint
        if not stopping and stop():
            stopping = True
            process.send_signal(signal.SIGTERM)
        if finished:
            break
        time.sleep(POLL_S)
    code = process.returncode
    # the run's record says how it ended: a SIGTERM (a prune, or the sweep stopping) that reaches
    # the process after the run was recorded completed, as it exits, kills it with 143 all the same
    completed = outcome.run_dir is not None and (code == 0 or read_run(outcome.run_dir).status == "completed")
    if completed and run is not None and job.reports:
        _report(run, job, trial, reported, prune=False)  # a prune may have come too late: all count
    outcome.reported = reported
    if completed:
        outcome.state, outcome.value = "complete", final_value(outcome.run_dir, job.metric, job.split)
        if outcome.value is None:
            outcome.state, outcome.error = "failed", f"the run recorded no {job.split} {job.metric}"
    elif pruned:
        outcome.state = "pruned"
    elif stopping:
        outcome.state = "stopped"
    else:
        outcome.state = "failed"
        outcome.error = f"peftspec run exited with {code}; see {job.log}"
    if outcome.run_dir is not None and job.group is None:  # a fold's: `_record_folds` records it
        _record(outcome)
    return outcome


def _report(run, job: TrialJob, trial, reported: dict[int, float], prune: bool) -> bool:
    """Report the evaluations written since the last look; True when the pruner says stop (never
    at the step that ends training: there is nothing left to save)."""
    run.stream.tail()
    for record in run.stream.evals:
        step, value = step_of(record), number(record.get(job.metric))
        if step is None or value is None or step in reported:
            continue
        trial.report(value, step)
        reported[step] = value
        if prune and not _last_step(str(run.path), step) and trial.should_prune():
            return True
    return False


def _announced(run_file: Path) -> str | None:
    """The run directory as `peftspec run` wrote it for its launcher."""
    text = run_file.read_text().strip() if run_file.exists() else ""
    return text or None


def _recorded(job: TrialJob) -> str | None:
    """The run directory under `output_root` whose record names this trial (a run launched through
    torchrun tells its own launcher, not this worker)."""
    from peftspec.runs import run_dirs

    root = Path(job.output_root)
    for path in run_dirs(root) if root.is_dir() else []:
        if not path.name.startswith(job.run_name):
            continue
        trial = read_run(path).record.trial or {}
        if (
            trial.get("study") == job.record["study"]
            and trial.get("number") == job.record["number"]
            and trial.get("fold") == job.record.get("fold")
        ):
            return str(path.resolve())
    return None


def _last_step(run_dir: str, step: int) -> bool:
    """Whether `step` ends training (nothing left to save by pruning)."""
    record = read_run(run_dir).record
    total = record.max_steps or (record.overview.total_steps if record.overview else None)
    return total is not None and step >= total


def final_value(run_dir: str, metric: str, split: str) -> float | None:
    """The trial's value: the run's final `split` figure of `metric`, cross-fitted when the run
    tuned its thresholds on that split (never scored with thresholds tuned on the same rows)."""
    from peftspec.report.compare import run_row

    run = read_run(run_dir)
    value = run_row(run, split).get(metric if metric != "loss" else "val_loss")
    return float(value) if isinstance(value, int | float) else None


def _record(outcome: TrialOutcome) -> None:
    """The trial's state in its run's record (the run itself says interrupted, completed, ...)."""
    _update_trial(outcome.run_dir, state=outcome.state, value=outcome.value)


def _record_folds(outcomes: list[TrialOutcome], state: str, value: float | None) -> None:
    """Where a cross-validated trial stands, in each of its folds' runs so far: the trial's state
    and value (its mean, once every fold completed), and each fold's own (`fold_state`,
    `fold_value`)."""
    for o in outcomes:
        if o.run_dir is not None:
            _update_trial(o.run_dir, state=state, value=value, fold_state=o.state, fold_value=o.value)


def _update_trial(run_dir: str, **fields: Any) -> None:
    run = read_run(run_dir)
    trial = dict(run.record.trial or {})
    trial.update(fields)
    RunWriter(run.paths, run.record).update(trial=trial)

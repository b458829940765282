"""The sweep worker: take a trial (or an orphaned one to resume), run it, tell the study, repeat
until the study has no trial left; any number of workers, in any number of processes or machines.

The study is created once with `trials` waiting trials. A worker takes one under the study lock
and records itself (`host:pid`) on it; a trial still `RUNNING` whose worker is gone (its process
is dead, or on another machine its run has stopped beating) is an orphan, taken over by the next
worker that looks and resumed from its run's newest checkpoint. So the study never holds more
than `trials` trials, and a killed sweep loses at most the steps since a trial's last checkpoint.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peftspec.errors import UserError
from peftspec.spec.root import Spec
from peftspec.sweep import space as sweep_space
from peftspec.sweep.report import param_text
from peftspec.sweep.storage import alive, describe, open_storage, study_lock, worker_id
from peftspec.sweep.trial import TrialJob, TrialOutcome, run_trial


class SweepError(UserError):
    title = "sweep"


@dataclass
class SweepOptions:
    storage: str | None = None
    """A database URL; unset = the journal file in the sweep's folder."""
    join: bool = False
    """Join a study that another worker started (refuse to start a new one)."""
    study: str | None = None
    """The study's name; unset = the spec's name."""


@dataclass
class SweepResult:
    study: Any
    folder: Path
    storage: str
    ran: list[TrialOutcome] = field(default_factory=list)


def sweep_folder(spec: Spec) -> Path:
    return Path(spec.tracking.output_root) / f"{spec.name}-sweep"


def objective(spec: Spec) -> tuple[str, str]:
    """(metric, direction) of the sweep: as `[sweep]` says, else the run's best metric."""
    from peftspec.metrics.registry import LOSS, PRIMARY_METRIC, higher_is_better

    metric = spec.sweep.metric or spec.trainer.best_metric or PRIMARY_METRIC[spec.dataset.task]
    better = higher_is_better(metric) if metric != LOSS else False
    return metric, spec.sweep.direction or ("maximize" if better else "minimize")


def _sampler(spec: Spec, offset: int):
    import optuna

    sweep = spec.sweep
    if sweep.sampler == "grid":
        return optuna.samplers.GridSampler(sweep_space.grid(sweep), seed=sweep.seed)
    if sweep.sampler == "random":
        return optuna.samplers.RandomSampler(seed=sweep.seed + offset)
    return optuna.samplers.TPESampler(seed=sweep.seed + offset, n_startup_trials=min(5, sweep.trials))


def _pruner(spec: Spec):
    import optuna

    kind = spec.sweep.pruner
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner()
    return optuna.pruners.NopPruner()


def run_sweep(
    spec: Spec, spec_file: str, overrides: list[str], options: SweepOptions, console=None
) -> SweepResult:
    """Work on the study of `spec`'s sweep until no trial is left; returns what this worker ran."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if spec.sweep is None:
        raise SweepError(
            f"{spec_file} has no [sweep] table", hint="add [sweep] and [sweep.space] (see docs/sweeps.md)"
        )
    folder = sweep_folder(spec)
    storage = open_storage(options.storage, folder)
    name = options.study or spec.name
    metric, direction = objective(spec)
    me = worker_id()
    with study_lock(options.storage, folder, name):
        names = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
        if name not in names:
            if options.join:
                raise SweepError(
                    f"no study {name!r} in {describe(options.storage, folder)} to join",
                    hint="start it first: peftspec sweep SPEC (same --storage), then --join from the others",
                )
            study = optuna.create_study(study_name=name, storage=storage, direction=direction)
            study.set_user_attr("metric", metric)
            study.set_user_attr("folds", spec.sweep.folds)
            study.set_user_attr("spec_file", str(Path(spec_file).resolve()))
            for slot in range(spec.sweep.trials):
                study.enqueue_trial({}, user_attrs={"slot": slot})
        study = optuna.load_study(study_name=name, storage=storage)
        offset = int(study.user_attrs.get("workers", 0))  # workers draw differently from one another
        study.set_user_attr("workers", offset + 1)
    study = optuna.load_study(
        study_name=name, storage=storage, sampler=_sampler(spec, offset), pruner=_pruner(spec)
    )
    result = SweepResult(study, folder, describe(options.storage, folder))
    stopping = _StopFlag()
    with stopping:
        while not stopping.set:
            with study_lock(options.storage, folder, name):
                taken = _take(study, me)
            if taken is None:
                break
            trial, resume_dir = taken
            result.ran.append(
                _run(spec, spec_file, overrides, study, trial, resume_dir, metric, folder, stopping, console)
            )
    return result


def _take(study, me: str):
    """The next trial for this worker (an orphan to resume first, else a waiting one), marked as
    its own; None when the study has none left. Called under the study lock."""
    from optuna.trial import Trial, TrialState

    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if _orphaned(frozen):
            study._storage.set_trial_user_attr(frozen._trial_id, "worker", me)
            study._storage.set_trial_user_attr(frozen._trial_id, "resumed_by", me)
            return Trial(study, frozen._trial_id), frozen.user_attrs.get("run_dir")
    if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        return None
    trial = study.ask()
    trial.set_user_attr("worker", me)
    return trial, None


def _orphaned(frozen) -> bool:
    """A running trial whose worker is gone: its process is dead (this host), or elsewhere its
    run no longer beats (crashed, interrupted or failed)."""
    state = alive(frozen.user_attrs.get("worker"))
    if state is not None:
        return not state
    run_dir = frozen.user_attrs.get("run_dir")
    if not run_dir or not Path(run_dir).is_dir():
        return False
    from peftspec.runs import read_run

    return read_run(run_dir).status in ("crashed", "interrupted", "failed")


def _run(
    spec, spec_file, overrides, study, trial, resume_dir, metric, folder, stopping, console
) -> TrialOutcome:
    from optuna.trial import TrialState

    values, sets = sweep_space.suggest(trial, spec.sweep)
    number = trial.number
    run_name = f"{spec.tracking.run_name or spec.name}-t{number:03d}"
    direction = study.direction.name.lower()
    record = {
        "study": study.study_name,
        "number": number,
        "params": values,
        "metric": metric,
        "direction": direction,
    }
    job = TrialJob(
        spec_file,
        [*overrides, *sets, f"tracking.run_name={run_name}"],
        metric,
        "validation",
        record,
        folder / "logs" / f"trial-{number:03d}.log",
        resume_dir,
        spec.tracking.output_root,
        run_name,
        folds=spec.sweep.folds,
    )
    if console is not None:
        what = f"resuming trial {number} from {resume_dir}" if resume_dir else f"trial {number}"
        what += f" ({spec.sweep.folds} folds)" if spec.sweep.folds else ""
        console.print(
            f"[bold]{what}[/]: " + ", ".join(f"{k} = {param_text(v)}" for k, v in values.items()),
            highlight=False,
        )
    outcome = run_trial(job, trial, lambda: stopping.set)
    if outcome.state == "complete":
        study.tell(trial, outcome.value)
    elif outcome.state == "pruned":
        study.tell(trial, state=TrialState.PRUNED)
    elif outcome.state == "failed":
        trial.set_user_attr("error", outcome.error)
        study.tell(trial, state=TrialState.FAIL)
    # "stopped": the sweep was stopped; the trial stays running, for the next worker to resume
    if console is not None:
        shown = f" {metric} = {outcome.value:.4f}" if outcome.value is not None else ""
        shown += (
            f", the mean of {spec.sweep.folds} folds"
            if spec.sweep.folds and outcome.value is not None
            else ""
        )
        console.print(
            f"trial {number}: {outcome.state}{shown}" + (f" ({outcome.error})" if outcome.error else "")
        )
    return outcome


class _StopFlag:
    """SIGINT or SIGTERM to the worker: its trial's run stops at a checkpoint (left resumable),
    and the worker takes no new trial."""

    def __init__(self):
        self.set = False
        self._before: dict[int, Any] = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._before[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.set = True

    def __exit__(self, *exc) -> None:
        for sig, handler in self._before.items():
            signal.signal(sig, handler)

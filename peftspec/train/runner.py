"""Train a `CompiledRun` into a new run directory, and record how it ended.

The run directory is created once the data has been checked (a typo in a data file leaves no run
behind); from then on any failure is recorded in run.json as `failed` with its message. Under
torchrun, rank 0 creates and writes the run directory; the other ranks train with a writer that
writes nothing but their own failure.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peftspec.build.compiled import CompiledRun
from peftspec.build.environment import world
from peftspec.errors import record_run_dir
from peftspec.runs.layout import RunPaths, new_run_dir, utc_now
from peftspec.runs.lock import RunLock
from peftspec.runs.record import Overview, RunFailure
from peftspec.runs.writer import RunWriter, SilentWriter
from peftspec.train.distributed import agree, first_rank_failure, leave, record_rank_failure

RUN_FILE_ENV = "PEFTSPEC_RUN_FILE"
"""Set by `peftspec run --nproc-per-node`: rank 0 writes the run directory's path there."""


@dataclass
class RunOutcome:
    paths: RunPaths | None
    overview: Overview | None
    evaluation: dict[str, Any] | None = None
    """eval.json's content; None for a dry run and on ranks other than 0."""


def start(compiled: CompiledRun, console) -> RunOutcome:
    """Create the run directory, record the start, train, evaluate; returns what was written."""
    settings = compiled.settings
    paths = agree(lambda: new_run_dir(settings.output_root, settings.run_name))
    if not world().main:  # another rank of a distributed run: trains, writes nothing but its failure
        return follow(compiled, paths, console=None)
    _tell_launcher(paths)
    writer = RunWriter(paths)
    started = utc_now()
    with RunLock(paths.root):
        _start_record(writer, compiled, started)
        return supervised(writer, started, 0.0, lambda: train(compiled, writer, console))


def follow(
    compiled: CompiledRun, paths: RunPaths, console=None, resume_from: str | None = None
) -> RunOutcome:
    """A rank other than 0: train alongside rank 0; on failure leave the error for rank 0."""
    from rich.console import Console

    writer = SilentWriter(paths)
    try:
        return train(compiled, writer, console or Console(quiet=True), resume_from)
    except BaseException as exc:
        record_rank_failure(writer, exc)
        raise


def _tell_launcher(paths: RunPaths) -> None:
    """`peftspec run --nproc-per-node` waits on torchrun; it learns the run directory from here."""
    target = os.environ.get(RUN_FILE_ENV)
    if target:
        Path(target).write_text(str(paths.root.resolve()), encoding="utf-8")


def _start_record(writer: RunWriter, compiled: CompiledRun, started) -> None:
    from peftspec.build.environment import device_facts, git_commit, versions

    paths = writer.paths
    writer.write_spec(compiled.render(f"Resolved spec of run {paths.name}"))
    writer.copy_sources(compiled.spec_files)
    writer.record = compiled.record.model_copy(deep=True)
    writer.update(
        run=paths.name,
        status="running",
        started_at=started.isoformat(),
        heartbeat_at=started.isoformat(),
        world_size=world().size,
        versions=versions(),
        device=device_facts(),
        git_commit=git_commit(compiled.spec_files[0]) if compiled.spec_files else None,
    )


def train(compiled: CompiledRun, writer: RunWriter, console, resume_from: str | None = None) -> RunOutcome:
    """Build the model, train (from `resume_from`, a complete checkpoint, when resuming), save the
    weights and run the final evaluation. Signals stop training after the step with a checkpoint
    (`RunInterrupted`)."""
    from peftspec.build.overview import render_overview
    from peftspec.train.interrupt import RunInterrupted, StopRequest
    from peftspec.train.session import TrainingSession

    parts = compiled.build_model()
    writer.update(
        overview=parts.overview,
        added_pad_token=parts.added_pad_token,
        model={
            "architecture": parts.architecture,
            "wrapped_modules": parts.wrapped_modules,
            "pooling": parts.pooling,
            "head_pooling": parts.head_pooling,
        },
    )
    console.print(render_overview(parts.overview))

    def exit_now(signum: int) -> None:  # a second signal: record it, then the process exits
        writer.update(status="interrupted", error={"type": "signal", "message": f"signal {signum} twice"})

    with StopRequest(exit_now) as stop:
        session = TrainingSession(compiled, parts, writer, console, stop)
        session.train(resume_from)
    state = None
    if world().size > 1:
        session.record_ranks()
        state = session.gather_weights()  # FSDP's shards, assembled on rank 0
        leave(session.trainer)  # the ranks' last collective: rank 0 saves and evaluates alone
    if stop.signum is not None:
        session.close()
        raise RunInterrupted(stop.signum, str(writer.paths.root), session.trainer.state.global_step)
    if not world().main:  # rank 0 saves the weights and runs the final evaluation
        return RunOutcome(writer.paths, parts.overview)
    with StopRequest(exit_now) as late:  # training is over: a first signal lets these seconds finish
        session.save(state)
        evaluation = session.final_evaluation()
        session.close()
    if late.signum is not None:
        console.print("training had ended when the signal came: the run was saved and evaluated")
    return RunOutcome(writer.paths, parts.overview, evaluation)


def supervised(writer: RunWriter, started, earlier_s: float, body) -> RunOutcome:
    """Run `body`, then record how the run ended: completed, interrupted (resumable) or failed."""
    from peftspec.train.interrupt import RunInterrupted

    try:
        outcome = body()
    except RunInterrupted as exc:
        error = RunFailure(
            type="RunInterrupted", message=str(exc), resume=f"peftspec run --resume {exc.run_dir}"
        )
        _finish(writer, started, earlier_s, "interrupted", error)
        raise
    except KeyboardInterrupt:
        error = RunFailure(type="KeyboardInterrupt", message="interrupted by the user before training began")
        _finish(writer, started, earlier_s, "interrupted", error)
        raise
    except BaseException as exc:
        cause = first_rank_failure(writer.paths)  # another rank's error that brought this one down
        error = cause or RunFailure(
            type=type(exc).__name__,
            message=str(exc),
            traceback="".join(traceback.format_exception(exc))[-8000:],
            rank=0,
        )
        _finish(writer, started, earlier_s, "failed", error)
        record_run_dir(exc, writer.paths.root)  # the command line says where the traceback is
        raise
    _finish(writer, started, earlier_s, "completed")
    return outcome


def _finish(
    writer: RunWriter, started, earlier_s: float, status: str, error: RunFailure | None = None
) -> None:
    """`earlier_s`: seconds already trained before a resume (the duration counts active time)."""
    ended = utc_now()
    # a resumed run that completes has no error left
    writer.update(
        status=status,
        ended_at=ended.isoformat(),
        duration_s=round(earlier_s + (ended - started).total_seconds(), 3),
        error=error,
    )
    writer.close()

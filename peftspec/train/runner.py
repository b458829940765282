"""Run a validated spec: data, model, training, final evaluation, and the run directory.

The run directory is created once the data has been checked (a typo in a data file leaves no
run behind); from then on any failure is recorded in run.json as `failed` with its message.
"""

from __future__ import annotations

import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peftspec.build.data import DataBundle, load_data
from peftspec.build.overview import Plan, describe_adapter, describe_device, render_plan, speedups, step_counts
from peftspec.runs.layout import RunPaths, new_run_dir, utc_now
from peftspec.runs.lock import RunLock
from peftspec.runs.writer import RunWriter
from peftspec.spec.render import render_spec
from peftspec.spec.root import Spec


@dataclass
class RunRequest:
    spec: Spec
    spec_files: list[str] = field(default_factory=list)
    """The spec file and each base it extends, in that order (copied into the run)."""
    overrides: list[str] = field(default_factory=list)
    dry_run: bool = False
    data: DataBundle | None = None
    """Data already loaded and checked (`peftspec check` passes a sample); unset = load the spec's."""


@dataclass
class RunOutcome:
    paths: RunPaths | None
    plan: Plan
    evaluation: dict[str, Any] | None = None


def execute(request: RunRequest, console) -> RunOutcome:
    from peftspec.build.environment import quiet_libraries
    from peftspec.build.training_args import resolve_precision

    quiet_libraries()
    spec = request.spec
    bundle = request.data or load_data(spec.dataset)
    _print_warnings(bundle, console)
    precision = resolve_precision(spec.trainer.precision)
    if request.dry_run:
        _, plan = _build(spec, bundle, precision)
        console.print(render_plan(plan))
        return RunOutcome(None, plan)
    from peftspec.train.distributed import agree, world

    paths = agree(lambda: new_run_dir(spec.tracking.output_root, spec.tracking.run_name or spec.name))
    if not world().main:  # another rank of a distributed run: trains, writes nothing but its failure
        return _follow(spec, bundle, precision, paths)
    _tell_launcher(paths)
    writer = RunWriter(paths)
    started = utc_now()
    with RunLock(paths.root):
        _start_record(writer, request, bundle, precision, started)
        return _supervised(
            writer, started, 0.0, lambda: _build_and_train(spec, bundle, precision, writer, console)
        )


def _follow(spec: Spec, bundle: DataBundle, precision: str, paths: RunPaths, resume_from=None) -> RunOutcome:
    from rich.console import Console

    from peftspec.train.distributed import record_rank_failure
    from peftspec.runs.writer import SilentWriter

    try:
        return _build_and_train(
            spec, bundle, precision, SilentWriter(paths), Console(quiet=True), resume_from
        )
    except BaseException as exc:
        record_rank_failure(paths, exc)
        raise


def _tell_launcher(paths: RunPaths) -> None:
    """`peftspec run --nproc-per-node` waits on torchrun; it learns the run directory from here."""
    import os

    target = os.environ.get("PEFTSPEC_RUN_FILE")
    if target:
        Path(target).write_text(str(paths.root.resolve()), encoding="utf-8")


def _print_warnings(bundle: DataBundle, console) -> None:
    for problem in bundle.warnings:
        console.print(f"[yellow]warning[/]: {problem}", markup=True, highlight=False)


def _build_and_train(
    spec: Spec, bundle: DataBundle, precision: str, writer: RunWriter, console, resume_from=None
):
    built, plan = _build(spec, bundle, precision)
    writer.update_info(
        plan=plan.as_dict(),
        added_pad_token=built.added_pad_token,
        model={"architecture": built.architecture, "wrapped_modules": built.wrapped_modules},
    )
    console.print(render_plan(plan))
    evaluation = _train(spec, bundle, built, precision, writer, console, resume_from)
    return RunOutcome(writer.paths, plan, evaluation)


def _supervised(writer: RunWriter, started, earlier_s: float, body) -> RunOutcome:
    """Run `body`, then record how the run ended: completed, interrupted (resumable) or failed."""
    from peftspec.train.interrupt import RunInterrupted

    try:
        outcome = body()
    except RunInterrupted as exc:
        _finish(writer, started, earlier_s, "interrupted", error=_interruption(exc))
        raise
    except KeyboardInterrupt:
        error = {"type": "KeyboardInterrupt", "message": "interrupted by the user before training began"}
        _finish(writer, started, earlier_s, "interrupted", error=error)
        raise
    except BaseException as exc:
        from peftspec.train.distributed import first_rank_failure

        error = {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc))[-8000:],
        }
        cause = first_rank_failure(writer.paths)  # another rank's error that brought this one down
        _finish(writer, started, earlier_s, "failed", error=cause or {**error, "rank": 0})
        raise
    _finish(writer, started, earlier_s, "completed")
    return outcome


def _interruption(exc) -> dict:
    return {
        "type": "RunInterrupted",
        "message": str(exc),
        "resume": f"peftspec run --resume {exc.run_dir}",
    }


def _start_record(
    writer: RunWriter, request: RunRequest, bundle: DataBundle, precision: str, started
) -> None:
    from peftspec.train.distributed import world
    from peftspec.build.environment import device_facts, git_commit, versions

    spec, paths = request.spec, writer.paths
    writer.write_text(paths.spec, render_spec(spec, header=f"Resolved spec of run {paths.name}"))
    paths.source.mkdir(exist_ok=True)
    for i, source in enumerate(request.spec_files):
        shutil.copyfile(source, paths.source / f"{i:02d}-{Path(source).name}")
    writer.update_info(
        schema=1,
        run=paths.name,
        name=spec.name,
        description=spec.description,
        status="running",
        started_at=started.isoformat(),
        heartbeat_at=started.isoformat(),
        spec_file=request.spec_files[0] if request.spec_files else None,
        overrides=request.overrides,
        backbone=spec.backbone.model,
        adapter=spec.adapter.kind,
        quantization=spec.quantization.method,
        task=bundle.task,
        labels=bundle.label_names,
        rows={s.name: len(s) for s in bundle.splits()},
        data_hashes=bundle.hashes,
        seed=spec.trainer.seed,
        precision=precision,
        world_size=world().size,
        versions=versions(),
        device=device_facts(),
        git_commit=git_commit(request.spec_files[0]) if request.spec_files else None,
    )


def _build(spec: Spec, bundle: DataBundle, precision: str):
    import torch
    from transformers import set_seed

    from peftspec.build.model import build_model

    set_seed(spec.trainer.seed)  # the adapter and the new head are initialised from this
    per_epoch, total, effective = step_counts(spec, len(bundle.train))
    built = build_model(spec, bundle.label_names, precision, total_steps=total)
    plan = Plan(
        backbone=spec.backbone.model,
        adapter=describe_adapter(spec, built.wrapped_modules),
        quantization=spec.quantization.method,
        task=bundle.task,
        labels=len(bundle.label_names),
        trainable_parameters=built.trainable_parameters,
        total_parameters=built.total_parameters,
        rows={s.name: len(s) for s in bundle.splits()},
        steps_per_epoch=per_epoch,
        total_steps=total,
        effective_batch=effective,
        device=describe_device(),
        precision=precision,
        speedups=speedups(spec, precision, _attention(built.model), torch.cuda.is_available()),
    )
    return built, plan


def _attention(model) -> str:
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", None) or "default")


def _train(
    spec: Spec, bundle: DataBundle, built, precision: str, writer: RunWriter, console, resume_from=None
):
    from peftspec.train.interrupt import RunInterrupted, StopRequest
    from peftspec.train.session import TrainingSession

    def exit_now(signum: int) -> None:  # a second signal: record it, then the process exits
        writer.update_info(
            status="interrupted", error={"type": "signal", "message": f"signal {signum} twice"}
        )

    from peftspec.train.distributed import world

    with StopRequest(exit_now) as stop:
        session = TrainingSession(spec, bundle, built, precision, writer, console, stop)
        session.train(resume_from)
    if world().size > 1:
        _record_ranks(spec, session, writer)
    if stop.signum is not None:
        session.close()
        raise RunInterrupted(stop.signum, str(writer.paths.root), session.trainer.state.global_step)
    if not world().main:  # rank 0 saves the adapter and runs the final evaluation
        return None
    session.save()
    evaluation = session.final_evaluation()
    session.close()
    return evaluation


def _record_ranks(spec: Spec, session, writer: RunWriter) -> None:
    from peftspec.train.distributed import gather_facts, rank_facts, summarise

    facts = gather_facts(rank_facts(session.trainer))
    if facts is not None:
        writer.update_info(distributed=summarise(spec.distributed.strategy, facts))


def _finish(writer: RunWriter, started, earlier_s: float, status: str, error: dict | None = None) -> None:
    """`earlier_s`: seconds already trained before a resume (the duration counts active time)."""
    ended = utc_now()
    fields: dict[str, Any] = {
        "status": status,
        "ended_at": ended.isoformat(),
        "duration_s": round(earlier_s + (ended - started).total_seconds(), 3),
    }
    if error is not None:
        fields["error"] = error
    elif "error" in writer.info:
        fields["error"] = None  # a resumed run that completes has no error left
    writer.update_info(**fields)
    writer.close()

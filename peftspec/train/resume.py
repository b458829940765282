"""`peftspec run --resume RUN_DIR`: continue a crashed, killed or interrupted run from its newest
complete checkpoint, refusing when the spec or the data changed unless told which changes are fine."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from peftspec.train.runner import RunOutcome, _build_and_train, _print_warnings, _supervised
from peftspec.runs.checkpoints import newest_complete
from peftspec.runs.layout import RunPaths, utc_now
from peftspec.runs.lock import RunLock
from peftspec.runs.writer import RunWriter, atomic_write_text
from peftspec.spec.render import render_spec
from peftspec.spec.root import Spec


class ResumeRefused(Exception):
    """Resuming would not continue the same experiment, or there is nothing to resume from."""


@dataclass
class ResumeRequest:
    run_dir: Path
    spec: Spec | None = None
    """A changed spec to continue with; unset = the run's own recorded spec."""
    force: list[str] = field(default_factory=list)
    """Key paths allowed to differ from the recorded spec (`trainer.epochs`, or a whole section such
    as `trainer`), and `data` to accept changed data files."""


def spec_changes(recorded: Spec, new: Spec) -> list[tuple[str, Any, Any]]:
    """(dotted key, recorded value, new value) for every leaf that differs."""
    before, after = _flatten(recorded.model_dump(mode="json")), _flatten(new.model_dump(mode="json"))
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _allowed(key: str, force: list[str]) -> bool:
    return any(key == f or key.startswith(f + ".") for f in force)


def resume(request: ResumeRequest, console) -> RunOutcome | None:
    """Continue the run; None when it had already completed (nothing to do). Under torchrun, rank 0
    decides (checks, lock, metrics) and tells the other ranks which checkpoint to continue from."""
    from peftspec.train.distributed import world
    from peftspec.build.environment import quiet_libraries

    quiet_libraries()
    if not world().main:
        return _follow_resume(request)
    try:
        return _resume_main(request, console)
    finally:
        _announce(None)  # no-op once the checkpoint was announced; releases the others on refusal


_announced = False


def _announce(checkpoint: str | None) -> None:
    """Rank 0 tells the other ranks the checkpoint to resume from (None: there is nothing to do)."""
    global _announced
    from peftspec.train.distributed import init_process_group, world

    if world().size == 1 or _announced:
        return
    import torch.distributed as dist

    init_process_group()
    dist.broadcast_object_list([checkpoint], src=0)
    _announced = True


def _follow_resume(request: ResumeRequest) -> RunOutcome | None:
    """A rank other than 0: wait for rank 0's decision, then train from the same checkpoint."""
    import torch.distributed as dist

    from peftspec.build.data import load_data
    from peftspec.train.distributed import init_process_group
    from peftspec.train.runner import _follow
    from peftspec.build.training_args import resolve_precision
    from peftspec.spec import load_spec

    init_process_group()
    box: list[str | None] = [None]
    dist.broadcast_object_list(box, src=0)
    if box[0] is None:
        return None
    paths = RunPaths(Path(request.run_dir))
    spec = request.spec or load_spec(paths.spec)
    bundle = load_data(spec.dataset)
    return _follow(spec, bundle, resolve_precision(spec.trainer.precision), paths, resume_from=box[0])


def _resume_main(request: ResumeRequest, console) -> RunOutcome | None:
    from peftspec.build.data import load_data
    from peftspec.build.training_args import resolve_precision
    from peftspec.runs.reader import read_run
    from peftspec.spec import load_spec

    paths = RunPaths(Path(request.run_dir))
    if not paths.run_json.is_file():
        raise ResumeRefused(f"{paths.root} is not a run directory (no run.json)")
    with RunLock(paths.root):
        run = read_run(paths.root)
        if run.info.get("status") == "completed":
            console.print(f"{paths.name} already completed; nothing to resume.")
            return None
        recorded = load_spec(paths.spec)
        spec = request.spec or recorded
        changes = spec_changes(recorded, spec)
        _refuse_changes(changes, request.force)
        bundle = load_data(spec.dataset)
        _refuse_changed_data(run.info.get("data_hashes") or {}, bundle.hashes, request.force)
        _print_warnings(bundle, console)
        scan = newest_complete(paths.checkpoints)
        for folder, reason in scan.skipped:
            console.print(f"[yellow]skipping[/] {folder.name}: {reason}", highlight=False)
        if scan.newest is None:
            raise ResumeRefused(
                f"{paths.name} has no complete checkpoint to resume from; start it again with "
                f"`peftspec run {run.info.get('spec_file') or 'SPEC'}`"
            )
        trim_metrics(paths.metrics, scan.step)
        writer = RunWriter(paths)
        writer.info = dict(run.info)
        earlier = _active_seconds(run.info)
        started = utc_now()
        resumed = [*run.info.get("resumed", []), _resume_entry(started, scan.step, changes, run.status)]
        writer.update_info(
            status="running",
            heartbeat_at=started.isoformat(),
            ended_at=None,
            duration_s=None,
            active_before_s=earlier,
            resumed=resumed,
        )
        if changes:
            atomic_write_text(paths.spec, render_spec(spec, header=f"Resolved spec of run {paths.name}"))
        precision = resolve_precision(spec.trainer.precision)
        console.print(f"resuming {paths.name} from {scan.newest.name}")
        _announce(str(scan.newest))
        return _supervised(
            writer,
            started,
            earlier,
            lambda: _build_and_train(spec, bundle, precision, writer, console, str(scan.newest)),
        )


def _refuse_changes(changes: list[tuple[str, Any, Any]], force: list[str]) -> None:
    refused = [c for c in changes if not _allowed(c[0], force)]
    if not refused:
        return
    lines = "\n".join(f"  {k}: {json.dumps(a)} -> {json.dumps(b)}" for k, a, b in refused)
    keys = ",".join(k for k, _, _ in refused)
    raise ResumeRefused(
        f"the spec differs from the run's recorded spec:\n{lines}\n"
        f"resuming would not continue the same experiment; allow these changes with --force {keys}"
    )


def _refuse_changed_data(recorded: dict[str, str], now: dict[str, str], force: list[str]) -> None:
    changed = sorted(f for f in set(recorded) | set(now) if recorded.get(f) != now.get(f))
    if changed and "data" not in force:
        raise ResumeRefused(
            "the data changed since the run started (content hash differs):\n"
            + "\n".join(f"  {f}" for f in changed)
            + "\nresume with --force data to continue on the new data anyway"
        )


def trim_metrics(path: Path, step: int | None) -> None:
    """Keep metrics.jsonl up to the checkpoint's step, byte for byte: what came after is replayed."""
    if not path.exists() or step is None:
        return
    kept = []
    with open(path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break  # a partial last line
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") in ("train", "eval") and (record.get("step") or 0) <= step:
                kept.append(line)
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "wb") as fh:
        fh.writelines(kept)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _active_seconds(info: dict) -> float:
    """Seconds already trained: the recorded duration of an ended run, or for a killed one the time
    from its last (re)start to its last heartbeat, plus what came before that restart."""
    if info.get("duration_s") is not None and info.get("status") != "running":
        return float(info["duration_s"])
    resumed = info.get("resumed") or []
    try:
        since = datetime.fromisoformat(resumed[-1]["at"] if resumed else info["started_at"])
        beat = datetime.fromisoformat(info.get("heartbeat_at") or since.isoformat())
        return float(info.get("active_before_s") or 0.0) + max(0.0, (beat - since).total_seconds())
    except (KeyError, TypeError, ValueError):
        return float(info.get("active_before_s") or 0.0)


def _resume_entry(started, step, changes, status) -> dict:
    return {
        "at": started.isoformat(),
        "from_step": step,
        "previous_status": status,
        "changes": {k: [a, b] for k, a, b in changes},
    }

"""Continue a run from a complete checkpoint: the record says it resumed, the metric stream is cut
back to the checkpoint's step (what came after is replayed), and training goes on.

Deciding whether a run may be resumed (its spec and data unchanged, a complete checkpoint there)
happens before, in `peftspec.api.resume_run`; this module only continues.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peftspec.build.compiled import CompiledRun
from peftspec.runs.layout import utc_now
from peftspec.runs.reader import Run
from peftspec.runs.record import Resumption
from peftspec.runs.writer import RunWriter, trim_metrics
from peftspec.train.runner import RunOutcome, supervised, train


def resume(
    compiled: CompiledRun,
    run: Run,
    checkpoint: Path,
    step: int,
    changes: list[tuple[str, Any, Any]],
    console,
) -> RunOutcome:
    """Continue `run` from `checkpoint` (at `step`); `changes`: spec keys allowed to differ. The
    caller holds the run's lock."""
    paths = run.paths
    trim_metrics(paths, step)
    writer = RunWriter(paths, run.record.model_copy(deep=True))
    earlier = run.record.active_seconds()
    started = utc_now()
    previous = run.status if run.status != "running" else "crashed"  # still running = killed
    entry = Resumption(
        at=started.isoformat(),
        from_step=step,
        previous_status=previous,
        changes={k: [a, b] for k, a, b in changes},
    )
    writer.update(
        status="running",
        heartbeat_at=started.isoformat(),
        ended_at=None,
        duration_s=None,
        active_before_s=earlier,
        resumed=[*run.record.resumed, entry],
    )
    if changes:
        writer.write_spec(compiled.render(f"Resolved spec of run {paths.name}"))
    console.print(f"resuming {paths.name} from {checkpoint.name}")
    return supervised(writer, started, earlier, lambda: train(compiled, writer, console, str(checkpoint)))

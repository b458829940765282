"""Several processes, one run: torchrun launching, one run directory agreed by all ranks, and the
facts that prove the ranks trained together (world size, disjoint data shards, equal weights)."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from pathlib import Path

from peftspec.build.environment import world
from peftspec.runs.layout import RunPaths
from peftspec.runs.reader import read_json
from peftspec.runs.record import RunFailure
from peftspec.runs.writer import RunWriter


def init_process_group() -> None:
    """Join the process group now (the Trainer would, later): gloo on CPUs, NCCL on GPUs."""
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(world().local_rank)
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")


def leave(trainer=None) -> None:
    """After this process's last collective: drop the trainer's distributed wrapper, collect what
    still holds the group's finished work, and leave the process group. Left to interpreter exit,
    gloo's threads abort the process now and then ("terminate called without an active exception",
    pytorch#190489; 4 of 20 two-rank exits of a 5-step DDP script here, none of 40 after this)."""
    import gc

    import torch.distributed as dist

    if trainer is not None:
        trainer.accelerator.free_memory()
        trainer.model_wrapped = trainer.model
    gc.collect()
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def agree(make: Callable[[], RunPaths]) -> RunPaths:
    """Rank 0 creates the run directory; every rank gets its path."""
    here = world()
    if here.size == 1:
        return make()
    import torch.distributed as dist

    init_process_group()
    box = [str(make().root) if here.main else None]
    dist.broadcast_object_list(box, src=0)
    return RunPaths(Path(box[0]))


def rank_facts(trainer) -> dict:
    """What this rank trained on and ended with: its share of the first epoch's rows, a digest of
    the trainable weights."""
    indices: list[int] = []
    loader = trainer.get_train_dataloader()
    sampler = getattr(loader, "batch_sampler", None) or loader
    for batch in sampler:
        indices.extend(int(i) for i in batch)
    digest = hashlib.sha256()
    for name, param in sorted(trainer.model.named_parameters()):
        if param.requires_grad:
            digest.update(name.encode())
            digest.update(param.detach().float().cpu().contiguous().numpy().tobytes())
    return {
        "rank": world().rank,
        "host": socket.gethostname(),
        "rows": indices,
        "weights_sha256": digest.hexdigest(),
    }


def gather_facts(facts: dict) -> list[dict] | None:
    """Every rank's facts, on rank 0 (None elsewhere)."""
    import torch.distributed as dist

    gathered: list[dict] | None = [{} for _ in range(world().size)] if world().main else None
    dist.gather_object(facts, gathered, dst=0)
    return gathered


def summarise(strategy: str, facts: list[dict]) -> dict:
    """The record in run.json: how many ranks, how the first epoch's rows were shared out."""
    sets = [set(f["rows"]) for f in facts]
    overlap = len(set.intersection(*sets)) if len(sets) > 1 else 0
    return {
        "strategy": strategy,
        "world_size": len(facts),
        "ranks": [
            {
                "rank": f["rank"],
                "host": f["host"],
                "rows_first_epoch": len(f["rows"]),
                "weights_sha256": f["weights_sha256"],
            }
            for f in facts
        ],
        "rows_shared_by_ranks": overlap,
        "rows_covered": len(set.union(*sets)),
    }


def record_rank_failure(writer: RunWriter, exc: BaseException) -> None:
    """A rank other than 0 leaves the error it dies with, for rank 0 (or the launcher) to record."""
    import time
    import traceback

    writer.write_rank_error(
        world().rank,
        {
            "rank": world().rank,
            "host": socket.gethostname(),
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc))[-8000:],
            "time": time.time(),
        },
    )


def first_rank_failure(paths: RunPaths) -> RunFailure | None:
    """The earliest error another rank left, if any (the cause when rank 0 fails after it)."""
    errors = []
    for path in paths.rank_errors():
        error = read_json(path, [])
        if isinstance(error, dict):
            errors.append(error)
    if not errors:
        return None
    first = min(errors, key=lambda e: e.get("time", 0) if isinstance(e.get("time"), int | float) else 0)
    return RunFailure.model_validate({k: v for k, v in first.items() if k in RunFailure.model_fields})


class CheckpointAnnouncement:
    """Resume under torchrun: rank 0 decides which checkpoint to continue from and tells the other
    ranks (None: there is nothing to resume). Used as a context manager on rank 0, it releases the
    others with None when rank 0 stops before announcing (a refusal)."""

    def __init__(self) -> None:
        self.sent = False

    def __enter__(self) -> CheckpointAnnouncement:
        return self

    def __exit__(self, *exc) -> None:
        if not self.sent:
            self.send(None)
            leave()  # a refusal: no rank trains

    def send(self, checkpoint: str | None) -> None:
        if world().size == 1 or self.sent:
            return
        import torch.distributed as dist

        init_process_group()
        dist.broadcast_object_list([checkpoint], src=0)
        self.sent = True

    def receive(self) -> str | None:
        import torch.distributed as dist

        init_process_group()
        box: list[str | None] = [None]
        dist.broadcast_object_list(box, src=0)
        if box[0] is None:
            leave()
        return box[0]

"""Several processes, one run: torchrun launching, one run directory agreed by all ranks, and the
facts that prove the ranks trained together (world size, disjoint data shards, equal weights)."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from peftspec.runs.layout import RunPaths


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def world() -> World:
    """This process's place, from the variables torchrun sets (one process without them)."""
    env = os.environ
    return World(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


@dataclass
class Launch:
    nproc_per_node: int
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500


def torchrun_command(launch: Launch, peftspec_args: Sequence[str]) -> list[str]:
    """`python -m torch.distributed.run ... -m peftspec run ...`: PyTorch's own launcher."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc-per-node={launch.nproc_per_node}",
        f"--nnodes={launch.nnodes}",
        f"--node-rank={launch.node_rank}",
        f"--master-addr={launch.master_addr}",
        f"--master-port={launch.master_port}",
        "-m",
        "peftspec",
        "run",
        *peftspec_args,
    ]


def init_process_group() -> None:
    """Join the process group now (the Trainer would, later): gloo on CPUs, NCCL on GPUs."""
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(world().local_rank)
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")


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


ERRORS = "errors"
"""Folder of the run directory where a rank other than 0 leaves its error before it dies."""


def record_rank_failure(paths: RunPaths, exc: BaseException) -> None:
    import json
    import time
    import traceback

    folder = paths.root / ERRORS
    folder.mkdir(exist_ok=True)
    error = {
        "rank": world().rank,
        "host": socket.gethostname(),
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc))[-8000:],
        "time": time.time(),
    }
    (folder / f"rank-{world().rank}.json").write_text(json.dumps(error), encoding="utf-8")


def first_rank_failure(paths: RunPaths) -> dict | None:
    """The earliest error another rank left, if any (the cause when rank 0 fails after it)."""
    import json

    errors = []
    for path in sorted((paths.root / ERRORS).glob("rank-*.json")):
        try:
            errors.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    if not errors:
        return None
    first = min(errors, key=lambda e: e.get("time", 0))
    return {k: v for k, v in first.items() if k != "time"}


def mark_launch_failed(run_file: str, returncode: int) -> str | None:
    """After torchrun failed: a run still marked running (its rank 0 was killed before it could
    record anything) becomes failed, with the error a rank left, or torchrun's exit code."""
    import json

    from peftspec.runs.layout import utc_now
    from peftspec.runs.writer import atomic_write_json

    try:
        root = Path(Path(run_file).read_text(encoding="utf-8").strip())
        info = json.loads((root / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("status") != "running":
        return str(root)
    cause = first_rank_failure(RunPaths(root)) or {
        "type": "LaunchFailed",
        "message": f"torchrun exited with code {returncode}",
    }
    info.update(status="failed", error=cause, ended_at=utc_now().isoformat())
    atomic_write_json(root / "run.json", info)
    return str(root)

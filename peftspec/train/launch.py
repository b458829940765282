"""`peftspec run --nproc-per-node N`: run this same command under torchrun, then make sure the run
it started is not left marked running when a rank was killed before it could record anything."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from peftspec.runs.reader import read_run
from peftspec.runs.record import RunFailure
from peftspec.runs.writer import RunWriter
from peftspec.train.distributed import first_rank_failure
from peftspec.train.runner import RUN_FILE_ENV


@dataclass
class Launch:
    nproc_per_node: int
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500


def launch_request(
    nproc_per_node: int,
    nnodes: int,
    node_rank: int = 0,
    master_addr: str = "127.0.0.1",
    master_port: int = 29500,
) -> Launch | None:
    """A torchrun launch when more than one process is asked for and this is not one of them."""
    if "WORLD_SIZE" in os.environ or nproc_per_node * nnodes <= 1:
        return None
    return Launch(nproc_per_node, nnodes, node_rank, master_addr, master_port)


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


def relaunch(launch: Launch, peftspec_args: Sequence[str]) -> int:
    """Run `peftspec run ARGS` under torchrun and return its exit code; a run left marked running
    by a failed launch is marked failed with the error a rank left (or torchrun's exit code)."""
    command = torchrun_command(launch, peftspec_args)
    print(
        f"launching {launch.nproc_per_node} process(es) per node on {launch.nnodes} node(s): "
        + " ".join(command[1:]),
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="peftspec-launch-") as scratch:
        run_file = Path(scratch) / "run-dir"
        code = subprocess.call(command, env={**os.environ, RUN_FILE_ENV: str(run_file)})
        if code != 0:
            mark_launch_failed(run_file, code)
    return code


def mark_launch_failed(run_file: Path, returncode: int) -> str | None:
    """A run still marked running after torchrun failed (its rank 0 was killed before it could
    record anything) becomes failed, with the error a rank left, or torchrun's exit code."""
    from peftspec.runs.layout import utc_now

    try:
        root = Path(run_file.read_text(encoding="utf-8").strip())
    except OSError:
        return None
    run = read_run(root)
    if run.record.status != "running":
        return str(root)
    cause = first_rank_failure(run.paths) or RunFailure(
        type="LaunchFailed", message=f"torchrun exited with code {returncode}"
    )
    RunWriter(run.paths, run.record).update(status="failed", error=cause, ended_at=utc_now().isoformat())
    return str(root)

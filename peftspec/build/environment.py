"""Facts about where a run runs: library versions, device, git commit, this process's place among
torchrun's processes. No secrets."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

LIBRARIES = ["peftspec", "torch", "transformers", "peft", "bitsandbytes", "accelerate", "datasets"]


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_facts() -> dict[str, object]:
    import torch

    if torch.cuda.is_available():
        return {
            "type": "cuda",
            "count": torch.cuda.device_count(),
            "name": torch.cuda.get_device_name(0),
            "bf16": torch.cuda.is_bf16_supported(),
        }
    return {
        "type": "cpu",
        "threads": torch.get_num_threads(),
        "name": platform.processor() or platform.machine(),
    }


def gpu_memory() -> float | None:
    """Bytes of memory of this process's GPU (torchrun's LOCAL_RANK); None on a CPU."""
    import os

    import torch

    if not torch.cuda.is_available():
        return None
    return float(torch.cuda.get_device_properties(int(os.environ.get("LOCAL_RANK", 0))).total_memory)


def git_commit(path: str | Path) -> str | None:
    """The commit of the git checkout holding `path` (the spec), with `-dirty` for local changes."""
    folder = Path(path).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "") if commit else None


CHATTY_LOGGERS = ("bitsandbytes", "transformers", "peft", "datasets", "accelerate", "torch.distributed")


def quiet_loggers() -> None:
    """The libraries' loggers to errors only. Imports nothing, so the CLI calls it first: some
    libraries speak while they are imported (bitsandbytes, imported by peft, tells a CPU with
    AVX512-BF16 to `pip install kernels`)."""
    import logging

    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def quiet_libraries() -> None:
    """Silence library chatter that is not for peftspec users (load reports, internal deprecations,
    per-map progress bars); peftspec prints its own plan, progress and results."""
    import warnings

    quiet_loggers()
    for module in ("transformers", "peft", "accelerate", "torch"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
    import datasets
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1
    """The processes on this node."""

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def nodes(self) -> int:
        return max(1, self.size // max(1, self.local_size))


def world() -> World:
    """This process's place, from the variables torchrun sets (one process without them)."""
    env = os.environ
    size = int(env.get("WORLD_SIZE", 1))
    return World(
        int(env.get("RANK", 0)), size, int(env.get("LOCAL_RANK", 0)), int(env.get("LOCAL_WORLD_SIZE", size))
    )

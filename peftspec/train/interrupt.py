"""SIGINT and SIGTERM during training: the first finishes the current step, writes a checkpoint and
stops; a second exits at once. The run is then `interrupted` and resumable."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

from transformers import TrainerCallback

from peftspec.errors import UserError


class RunInterrupted(UserError):
    """Training stopped on a signal after writing a checkpoint; `peftspec run --resume` continues it."""

    title = "Interrupted"

    def __init__(self, signum: int, run_dir: str, step: int):
        self.signum, self.run_dir, self.step = signum, run_dir, step
        name = signal.Signals(signum).name
        super().__init__(
            f"{name} received: stopped after step {step} with a checkpoint",
            hint=f"resume with: peftspec run --resume {run_dir}",
        )
        self.exit_code = 128 + signum


class StopRequest:
    """Installs the handlers for the duration of training (main thread only)."""

    def __init__(self, on_second: Callable[[int], None]):
        self.signum: int | None = None
        self.on_second = on_second
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                break
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
            print(
                f"\n{signal.Signals(signum).name}: stopping after this step with a checkpoint "
                "(send it again to exit at once)",
                file=sys.stderr,
                flush=True,
            )
            return
        self.on_second(signum)
        os._exit(128 + signum)


class StopOnSignal(TrainerCallback):
    """Turns a pending stop request into: save a checkpoint now, then end training."""

    def __init__(self, stop: StopRequest):
        self.stop = stop

    def on_step_end(self, args, state, control, **kwargs):
        if self._requested():
            control.should_save = True
            control.should_training_stop = True
        return control

    def _requested(self) -> bool:
        """In a distributed run every rank must stop at the same step: any rank's request counts."""
        import torch.distributed as dist

        asked = self.stop.signum is not None
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return asked
        import torch

        flag = torch.tensor([1 if asked else 0], device="cuda" if dist.get_backend() == "nccl" else "cpu")
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        if flag.item() and self.stop.signum is None:
            self.stop.signum = 15  # another rank got the signal: stop as it does
        return bool(flag.item())

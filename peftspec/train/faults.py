"""Fault injection for the resume and distributed tests: `PEFTSPEC_FAULT=POINT:STEP[@RANK]` kills
the process with SIGKILL at that point of that step (on that rank only, if given). POINT is `step`
(after the backward pass, before the optimizer step), `save` (checkpoint files written, completion
marker not yet), `eval` (inside an evaluation) or `raise` (an exception at the end of the step,
instead of a kill). Unset (always, outside tests) it does nothing."""

from __future__ import annotations

import os
import signal

from transformers import TrainerCallback

ENV = "PEFTSPEC_FAULT"


class InjectedFailure(RuntimeError):
    """The failure `PEFTSPEC_FAULT=raise:STEP` asks for."""


def maybe_fault(point: str, step: int) -> None:
    value = os.environ.get(ENV)
    if not value:
        return
    name, _, at = value.partition(":")
    at, _, rank = at.partition("@")
    if name != point or not at.isdigit() or int(at) != step:
        return
    if rank and int(rank) != int(os.environ.get("RANK", 0)):
        return
    if point == "raise":
        raise InjectedFailure(f"injected failure at step {step} on rank {os.environ.get('RANK', 0)}")
    os.kill(os.getpid(), signal.SIGKILL)


class FaultPoints(TrainerCallback):
    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        maybe_fault("step", state.global_step + 1)

    def on_prediction_step(self, args, state, control, **kwargs):
        maybe_fault("eval", state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        maybe_fault("raise", state.global_step)

"""Fault injection for the resume tests: `PEFTSPEC_FAULT=POINT:STEP` kills the process with SIGKILL
at that point of that step. POINT is `step` (after the backward pass, before the optimizer step),
`save` (checkpoint files written, completion marker not yet) or `eval` (inside an evaluation).
Unset (always, outside tests) it does nothing."""

from __future__ import annotations

import os
import signal

from transformers import TrainerCallback

ENV = "PEFTSPEC_FAULT"


def maybe_fault(point: str, step: int) -> None:
    value = os.environ.get(ENV)
    if not value:
        return
    name, _, at = value.partition(":")
    if name == point and at.isdigit() and int(at) == step:
        os.kill(os.getpid(), signal.SIGKILL)


class FaultPoints(TrainerCallback):
    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        maybe_fault("step", state.global_step + 1)

    def on_prediction_step(self, args, state, control, **kwargs):
        maybe_fault("eval", state.global_step)

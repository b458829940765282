"""`trainer.micro_batch = "auto"`: the same effective batch in the largest micro-batch that fits.

A step of 8 rows accumulated 8 times does the work of one step of 64 rows in eight times as many
kernel launches, each too small to keep a large GPU busy. The effective batch (rows per optimizer
update) decides the optimisation; the micro-batch only decides how it is cut. This module picks
the cut from the memory estimate of `peftspec plan`, at `max_length` (the worst case), keeping
`HEADROOM` of the card for the CUDA context and the allocator.
"""

from __future__ import annotations

from dataclasses import dataclass

from peftspec.plan.advice import HEADROOM, with_trainer
from peftspec.plan.memory import GiB, ParameterBytes, estimate, parameter_bytes


@dataclass(frozen=True)
class MicroBatch:
    batch_size: int
    accumulation: int
    estimate_bytes: float
    """The memory estimate of the chosen micro-batch."""
    budget_bytes: float | None
    """The card's memory; None when there was none to fit (CPU: the spec's batch is kept)."""

    @property
    def effective(self) -> int:
        return self.batch_size * self.accumulation

    def line(self, spec_batch: int, spec_accumulation: int) -> str:
        """What the plan prints: the cut chosen and why."""
        chosen = f"{self.batch_size} x {self.accumulation}"
        was = f"{spec_batch} x {spec_accumulation}"
        if self.budget_bytes is None:
            return f"micro-batch {chosen} (auto: no GPU memory to fit, the spec's batch is kept)"
        told = (
            f"estimate {self.estimate_bytes / GiB:.1f} GiB of {self.budget_bytes / GiB:.1f} GiB at max_length"
        )
        if (self.batch_size, self.accumulation) == (spec_batch, spec_accumulation):
            return f"micro-batch {chosen} (auto: the spec's own; {told})"
        return f"micro-batch {chosen} (auto, the spec says {was}; same effective batch; {told})"


def divisors_descending(n: int) -> list[int]:
    return [d for d in range(n, 0, -1) if n % d == 0]


def fit_micro_batch(
    spec,
    config,
    labels: int,
    budget: float | None,
    precision: str = "bf16",
    params: ParameterBytes | None = None,
) -> MicroBatch:
    """The largest divisor of the effective batch whose estimate fits `budget` (bytes) with
    headroom; the smallest (1) when none does, since nothing smaller exists. Without a budget the
    spec's own cut is kept. `params`: the spec's parameter count, if already made."""
    t = spec.trainer
    if budget is None:
        return MicroBatch(t.batch_size, t.gradient_accumulation_steps, 0.0, None)
    effective = t.batch_size * t.gradient_accumulation_steps
    params = params or parameter_bytes(spec, config, labels)
    total = 0.0
    for size in divisors_descending(effective):
        candidate = with_trainer(spec, batch_size=size, gradient_accumulation_steps=effective // size)
        total = estimate(candidate, config, labels, precision=precision, params=params).total
        if total <= budget * HEADROOM:
            return MicroBatch(size, effective // size, total, budget)
    return MicroBatch(1, effective, total, budget)

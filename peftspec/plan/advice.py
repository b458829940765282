"""What would make a spec fit a GPU: changes that cut memory without changing the effective batch."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from peftspec.errors import UsageError
from peftspec.plan.memory import GiB, MemoryEstimate, ParameterBytes, estimate, parameter_bytes
from peftspec.spec.root import Spec

HEADROOM = 0.9
"""Share of the card that the estimate may use: the CUDA context and allocator slack need the rest."""


class BudgetError(UsageError):
    """A `--gpu-memory` value that is not a size like `24GiB`, `80GB` or `16`."""

    title = "not a memory size"


def parse_size(text: str) -> float:
    """`24GiB`, `24G`, `80GB`, `16` (GiB) -> bytes."""
    m = re.fullmatch(r"\s*([\d.]+)\s*(GiB|GB|G|MiB|MB|M)?\s*", text, re.IGNORECASE)
    if not m:
        raise BudgetError(f"{text!r} is not a memory size; write it like 24GiB, 80GB or 16")
    unit = (m.group(2) or "GiB").lower()
    scale = {"gib": GiB, "g": GiB, "gb": 1e9, "mib": 1024**2, "m": 1024**2, "mb": 1e6}[unit]
    return float(m.group(1)) * scale


def label_count(spec: Spec) -> int:
    labels = spec.dataset.labels
    names = getattr(labels, "columns", None) or getattr(labels, "names", None)
    return len(names) if names else 2


@dataclass
class Option:
    change: str
    spec: Spec
    estimate: MemoryEstimate


def with_trainer(spec: Spec, **changes) -> Spec:
    return spec.model_copy(update={"trainer": spec.trainer.model_copy(update=changes)})


@dataclass
class Change:
    """One way to cut memory without changing the effective batch: new trainer values, or 4-bit."""

    label: str
    trainer: dict[str, Any]
    quantise: bool = False

    def apply(self, spec: Spec) -> Spec:
        from peftspec.spec.quantization import Bnb4bit

        if self.quantise:
            return spec.model_copy(update={"quantization": Bnb4bit(method="bnb-4bit")})
        return with_trainer(spec, **self.trainer)


def changes(spec: Spec) -> list[Change]:
    """Gradient checkpointing, then halving the batch (doubling accumulation), then 4-bit."""
    t = spec.trainer
    found: list[Change] = []
    if not t.gradient_checkpointing:
        found.append(Change("trainer.gradient_checkpointing = true", {"gradient_checkpointing": True}))
    batch, accumulation = t.batch_size, t.gradient_accumulation_steps
    while batch > 1:
        batch, accumulation = batch // 2, accumulation * 2
        found.append(
            Change(
                f"trainer.batch_size = {batch} with gradient_accumulation_steps = {accumulation}",
                {"batch_size": batch, "gradient_accumulation_steps": accumulation},
            )
        )
    if spec.quantization.method == "none" and not spec.adapter.trains_backbone:
        found.append(Change('[quantization] method = "bnb-4bit" (QLoRA)', {}, quantise=True))
    return found


def advise(
    spec: Spec, config, labels: int, precision: str, budget: float, params: ParameterBytes | None = None
) -> list[Option]:
    """The first single change that fits `budget`; else the changes applied one on top of the
    other until it fits (or all of them). The parameters are counted once per quantisation
    (`params`: the spec's own count, already made)."""
    usable = budget * HEADROOM
    counts: dict[str, ParameterBytes] = {spec.quantization.method: params} if params else {}

    def option(change: Change, candidate: Spec) -> Option:
        method = candidate.quantization.method
        if method not in counts:
            counts[method] = parameter_bytes(candidate, config, labels)
        return Option(
            change.label,
            candidate,
            estimate(candidate, config, labels, precision=precision, params=counts[method]),
        )

    plan = changes(spec)
    for change in plan:
        single = option(change, change.apply(spec))
        if single.estimate.total <= usable:
            return [single]
    combined, current = [], spec
    for change in plan:
        current = change.apply(current)
        combined.append(option(change, current))
        if combined[-1].estimate.total <= usable:
            break
    return combined

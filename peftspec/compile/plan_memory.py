"""`peftspec plan`: the memory estimate of a spec, whether it fits a GPU, and what would make it fit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from peftspec.compile.memory import GiB, MemoryEstimate, estimate
from peftspec.spec.root import Spec

HEADROOM = 0.9
"""Share of the card that the estimate may use: the CUDA context and allocator slack need the rest."""


class BudgetError(ValueError):
    """A `--gpu-memory` value that is not a size like `24GiB`, `80GB` or `16`."""


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


def single_changes(spec: Spec) -> list[tuple[str, Spec]]:
    """Changes that cut memory without changing the effective batch, cheapest first."""
    from peftspec.spec.quantization import Bnb4bit

    t = spec.trainer
    changes: list[tuple[str, Spec]] = []
    if not t.gradient_checkpointing:
        changes.append(
            ("trainer.gradient_checkpointing = true", with_trainer(spec, gradient_checkpointing=True))
        )
    batch, accumulation = t.batch_size, t.gradient_accumulation_steps
    while batch > 1:
        batch, accumulation = batch // 2, accumulation * 2
        changes.append(
            (
                f"trainer.batch_size = {batch} with gradient_accumulation_steps = {accumulation}",
                with_trainer(spec, batch_size=batch, gradient_accumulation_steps=accumulation),
            )
        )
    if spec.quantization.method == "none" and spec.adapter.kind != "none":
        changes.append(
            (
                '[quantization] method = "bnb-4bit" (QLoRA)',
                spec.model_copy(update={"quantization": Bnb4bit(method="bnb-4bit")}),
            )
        )
    return changes


def advise(spec: Spec, config, labels: int, precision: str, budget: float) -> list[Option]:
    """The first single change that fits `budget`; else changes combined until it fits (or all)."""
    usable = budget * HEADROOM
    tried = [Option(c, s, estimate(s, config, labels, precision=precision)) for c, s in single_changes(spec)]
    for option in tried:
        if option.estimate.total <= usable:
            return [option]
    combined, current = [], spec
    for change, _ in single_changes(spec):
        current = dict(single_changes(current)).get(change, current)
        combined.append(Option(change, current, estimate(current, config, labels, precision=precision)))
        if combined[-1].estimate.total <= usable:
            break
    return combined


def render_estimate(
    spec: Spec, est: MemoryEstimate, budget: float | None, advice: list[Option], console
) -> bool:
    """Print the breakdown and the verdict; True when it fits (or no budget was given)."""
    from rich.table import Table
    from rich.text import Text

    t = spec.trainer
    table = Table(title=Text(f"Peak training memory of {spec.name}"), title_justify="left")
    table.add_column("component")
    table.add_column("GiB", justify="right")
    for name, value in est.parts.items():
        table.add_row(name, f"{value / GiB:.2f}")
    table.add_row(
        Text("total (allocated by PyTorch)", style="bold"), Text(f"{est.total / GiB:.2f}", style="bold")
    )
    console.print(table)
    console.print(
        Text(
            f"{est.total_parameters:,} parameters, {est.trainable_parameters:,} trainable; "
            f"batch {t.batch_size} x {spec.dataset.max_length} tokens (max_length: the worst case; "
            "dynamic padding usually needs less); "
            f"gradient checkpointing {'on' if t.gradient_checkpointing else 'off'}"
        )
    )
    if budget is None:
        return True
    fits = est.total <= budget * HEADROOM
    verdict = "fits" if fits else "does not fit"
    console.print(
        Text(
            f"{verdict} in {budget / GiB:.1f} GiB (keeping 10% for the CUDA context and allocator)",
            style="green" if fits else "bold red",
        )
    )
    if not fits and advice:
        last = advice[-1].estimate.total
        works = last <= budget * HEADROOM
        console.print(Text("to make it fit:" if works else "even with all of these it does not fit:"))
        for option in advice:
            console.print(Text(f"  {option.change}  -> {option.estimate.total / GiB:.2f} GiB"))
    return fits

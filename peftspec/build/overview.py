"""The plan printed before training: what will run, on what, for how long."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from peftspec.spec.root import Spec


@dataclass
class Plan:
    backbone: str
    adapter: str
    quantization: str
    task: str
    labels: int
    trainable_parameters: int
    total_parameters: int
    rows: dict[str, int]
    steps_per_epoch: int
    total_steps: int
    effective_batch: int
    device: str
    precision: str
    speedups: list[str] = field(default_factory=list)
    """The fast defaults in force (each can be turned off in the spec)."""

    def as_dict(self) -> dict:
        return asdict(self)


def step_counts(spec: Spec, train_rows: int, world_size: int = 1) -> tuple[int, int, int]:
    """(optimizer steps per epoch, total steps, effective batch), as the HF Trainer counts them."""
    t = spec.trainer
    batches = math.ceil(train_rows / (t.batch_size * world_size))
    per_epoch = max(1, batches // t.gradient_accumulation_steps)
    total = t.max_steps or math.ceil(t.epochs * per_epoch)
    return per_epoch, total, t.batch_size * t.gradient_accumulation_steps * world_size


def describe_adapter(spec: Spec, wrapped: list[str]) -> str:
    adapter = spec.adapter
    text = adapter.kind
    if adapter.kind in ("lora", "adalora", "loha", "lokr") and hasattr(adapter, "r"):
        text += f" r={adapter.r}"
    if wrapped:
        text += f" on {', '.join(wrapped)}"
    return text


def speedups(spec: Spec, precision: str, attention: str, on_gpu: bool) -> list[str]:
    """The fast defaults in force, as the plan shows them; `off:` marks ones the spec turned off."""
    t = spec.trainer
    items = ["dynamic padding" + (" (to a multiple of 8)" if on_gpu else "")]
    items.append("length-grouped batches" if t.group_by_length else "off: length-grouped batches")
    items.append(f"evaluation sorted by length, batch {t.eval_batch_size}, inference mode")
    items.append(f"{attention} attention")
    if precision in ("bf16", "fp16"):
        items.append(f"{precision} mixed precision")
    items.append("torch.compile" if t.torch_compile else "off: torch.compile")
    return items


def describe_device() -> str:
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        return f"cuda x{count} ({torch.cuda.get_device_name(0)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def render_plan(plan: Plan):
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Plan", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    share = plan.trainable_parameters / max(plan.total_parameters, 1)
    rows = [
        ("backbone", plan.backbone),
        ("adapter", plan.adapter),
        ("quantisation", plan.quantization),
        ("task", f"{plan.task}, {plan.labels} labels"),
        ("parameters", f"{plan.trainable_parameters:,} trainable of {plan.total_parameters:,} ({share:.2%})"),
        ("rows", ", ".join(f"{k} {v:,}" for k, v in plan.rows.items())),
        ("steps", f"{plan.steps_per_epoch:,} per epoch, {plan.total_steps:,} in total"),
        ("effective batch", str(plan.effective_batch)),
        ("device", plan.device),
        ("precision", plan.precision),
        ("speed-ups", ", ".join(plan.speedups) or "none"),
    ]
    for key, value in rows:
        table.add_row(key, Text(value))
    return table

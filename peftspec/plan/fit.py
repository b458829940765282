"""The whole `peftspec plan` answer for one spec: the estimate, the verdict for a card, the advice."""

from __future__ import annotations

from dataclasses import dataclass, field

from peftspec.plan.advice import HEADROOM, Option, advise, label_count, with_trainer
from peftspec.plan.memory import GiB, MemoryEstimate, estimate, parameter_bytes
from peftspec.plan.micro import MicroBatch, fit_micro_batch
from peftspec.spec.root import Spec


@dataclass
class FitReport:
    spec: Spec
    estimate: MemoryEstimate
    budget: float | None
    """The card's memory in bytes; None = no verdict asked for."""
    source: str
    """Where the architecture came from."""
    advice: list[Option] = field(default_factory=list)
    micro: MicroBatch | None = None
    """With a budget: the cut `micro_batch = "auto"` chose (the spec asks for it) or would choose
    (a larger micro-batch fits: the plan suggests it); None otherwise."""

    @property
    def fits(self) -> bool:
        return self.budget is None or self.estimate.total <= self.budget * HEADROOM


def fit_report(spec: Spec, budget: float | None = None) -> FitReport:
    """Estimate `spec`'s peak training memory; when it does not fit `budget` (bytes), the change
    (or the changes, combined) that make it fit without changing the effective batch."""
    from peftspec.build.environment import quiet_libraries
    from peftspec.plan.config import real_config

    quiet_libraries()
    config, source = real_config(spec.backbone)
    precision = "fp32" if spec.trainer.precision == "fp32" else "bf16"
    labels = label_count(spec)
    params = parameter_bytes(spec, config, labels)
    t = spec.trainer
    micro = fit_micro_batch(spec, config, labels, budget, precision, params) if budget else None
    if micro is not None and t.micro_batch == "auto":  # the plan of what will run
        spec = with_trainer(spec, batch_size=micro.batch_size, gradient_accumulation_steps=micro.accumulation)
    elif micro is not None and micro.batch_size <= t.batch_size:
        micro = None  # nothing larger fits: nothing to suggest
    est = estimate(spec, config, labels, precision=precision, params=params)
    report = FitReport(spec, est, budget, source, micro=micro)
    if not report.fits:
        report.advice = advise(spec, config, labels, precision, budget, params)
    return report


def fit_json(report: FitReport) -> dict:
    """The plan for tools (`peftspec plan --format json`): every figure of the terminal's answer,
    in bytes, with the verdict (null without a card) and the advice."""
    spec, est, t = report.spec, report.estimate, report.spec.trainer
    dist = spec.distributed
    micro = report.micro
    return {
        "spec": spec.name,
        "backbone": spec.backbone.model,
        "architecture_from": report.source,
        "memory_bytes": {**est.parts, "total": est.total},
        "parameters": {"total": est.total_parameters, "trainable": est.trainable_parameters},
        "batch": {
            "batch_size": t.batch_size,
            "gradient_accumulation_steps": t.gradient_accumulation_steps,
            "max_length": spec.dataset.max_length,
            "gradient_checkpointing": t.gradient_checkpointing,
            "processes": dist.processes_per_node * dist.nodes,
        },
        "per_gpu": True,
        "notes": list(est.notes),
        "budget_bytes": report.budget,
        "usable_bytes": report.budget * HEADROOM if report.budget is not None else None,
        "fits": report.fits if report.budget is not None else None,
        "micro_batch": (
            None
            if micro is None
            else {
                "batch_size": micro.batch_size,
                "gradient_accumulation_steps": micro.accumulation,
                "memory_bytes": micro.estimate_bytes,
                "chosen": t.micro_batch == "auto",  # else suggested: the spec keeps its own batch
            }
        ),
        "advice": [{"change": o.change, "memory_bytes": o.estimate.total} for o in report.advice],
    }


def render_fit(report: FitReport, console) -> None:
    """The breakdown, the verdict and the advice."""
    from rich.table import Table
    from rich.text import Text

    spec, est, budget = report.spec, report.estimate, report.budget
    t = spec.trainer
    console.print(f"architecture from {report.source}")
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
    dist = spec.distributed
    processes = dist.processes_per_node * dist.nodes
    if processes > 1:
        how = "ddp: a full copy on each" if dist.strategy == "ddp" else f"fsdp {dist.fsdp.sharding}"
        effective = t.batch_size * t.gradient_accumulation_steps * processes
        console.print(
            Text(f"per GPU, for each of {processes} processes ({how}); effective batch {effective}")
        )
    if budget is None:
        return
    _render_micro(report, console)
    _render_paging(report, console)
    verdict = "fits" if report.fits else "does not fit"
    console.print(
        Text(
            f"{verdict} in {budget / GiB:.1f} GiB (keeping 10% for the CUDA context and allocator)",
            style="green" if report.fits else "bold red",
        )
    )
    if not report.fits and report.advice:
        works = report.advice[-1].estimate.total <= budget * HEADROOM
        console.print(Text("to make it fit:" if works else "even with all of these it does not fit:"))
        for option in report.advice:
            console.print(Text(f"  {option.change}  -> {option.estimate.total / GiB:.2f} GiB"))


def _render_micro(report: FitReport, console) -> None:
    """What `micro_batch = "auto"` chose, or the suggestion to ask for it."""
    from rich.text import Text

    micro, t = report.micro, report.spec.trainer
    if micro is None:
        return
    if t.micro_batch == "auto":
        console.print(Text(f"micro-batch {micro.batch_size} x {micro.accumulation} (auto)"))
        return
    console.print(
        Text(
            f'trainer.micro_batch = "auto" would run the same effective batch ({micro.effective}) as '
            f"{micro.batch_size} x {micro.accumulation} ({micro.estimate_bytes / GiB:.2f} GiB): "
            "fewer, larger kernels, usually faster on a GPU"
        )
    )


def _render_paging(report: FitReport, console) -> None:
    """A paged optimizer moves its states to CPU memory when the GPU runs short: with room to
    spare it only costs speed."""
    from rich.text import Text

    optimizer, states = report.spec.trainer.optimizer, report.estimate.parts.get("optimizer states", 0.0)
    if optimizer.startswith("paged_") and report.fits:
        console.print(
            Text(
                f"{optimizer} pages its states ({states / GiB:.2f} GiB) to CPU memory when the GPU "
                "runs short; this spec fits without it, and the default optimizer "
                "(adamw_torch_fused, the same AdamW update) is faster"
            )
        )

"""The overview printed before training (and kept in the run record): what will run, on what, for
how long. `peftspec plan` (memory) is a different thing and lives in `peftspec.plan`."""

from __future__ import annotations

import math

from peftspec.runs.record import Overview, positive_class, task_line
from peftspec.spec.dataset import DatasetSpec
from peftspec.spec.root import Spec
from peftspec.spec.trainer import TrainerSpec


def step_counts(trainer: TrainerSpec, train_rows: int, world_size: int = 1) -> tuple[int, int, int]:
    """(optimizer steps per epoch, total steps, effective batch), as the HF Trainer counts them;
    `world_size`: the processes training together, each on its share of the rows."""
    batches = math.ceil(train_rows / (trainer.batch_size * world_size))
    per_epoch = max(1, batches // trainer.gradient_accumulation_steps)
    total = trainer.max_steps or math.ceil(trainer.epochs * per_epoch)
    return per_epoch, total, trainer.batch_size * trainer.gradient_accumulation_steps * world_size


def overview_of(
    spec: Spec,
    bundle,
    built,
    precision: str,
    on_gpu: bool,
    learning_rate: str | None = None,
    class_weights: list[float] | None = None,
    micro_line: str | None = None,
    truncated: str | None = None,
) -> Overview:
    """The overview of a built model (`peftspec.build.model.BuiltModel`) on `bundle`'s data;
    `class_weights`: the loss's weights as the run's settings hold them (`TrainSettings`);
    `truncated`: what `dataset.max_length` cuts (`peftspec.build.truncation`)."""
    from peftspec.build.class_weights import describe
    from peftspec.build.environment import world

    here = world()
    per_epoch, total, effective = step_counts(spec.trainer, len(bundle.train), here.size)
    return Overview(
        backbone=spec.backbone.model,
        adapter=spec.adapter.summary(built.wrapped_modules),
        quantization=spec.quantization.method,
        task=bundle.task,
        labels=len(bundle.label_names),
        positive_class=positive_class(bundle.task, list(bundle.label_names)),
        trainable_parameters=built.trainable_parameters,
        total_parameters=built.total_parameters,
        rows={s.name: len(s) for s in bundle.splits()},
        steps_per_epoch=per_epoch,
        total_steps=total,
        effective_batch=effective,
        device="; ".join(filter(None, [describe_device(), processes_line(spec.distributed, here, on_gpu)])),
        precision=precision,
        pooling=built.pooling.line(),
        head=head_line(built),
        learning_rate=learning_rate,
        speedups=speedups(
            spec.trainer,
            precision,
            _attention(built.model),
            on_gpu,
            built.compiled_blocks,
            micro_line,
            built.liger,
        ),
        class_weights=describe(
            spec.trainer.class_weights, class_weights, list(bundle.label_names), bundle.task
        ),
        truncated=truncated,
        held_out=held_out_line(spec.dataset) if bundle.held_out else None,
        decisions=decisions_line(spec.metrics, bundle.task, list(bundle.label_names)),
    )


def decisions_line(metrics, task: str, labels: list[str]) -> str:
    """How the run will decide from its scores, as the overview says it (`metrics`: the spec's)."""
    line = _decisions(metrics, task, labels)
    if metrics.calibration == "temperature":
        line += "; scores calibrated by a temperature fitted on validation"
    return line


def _decisions(metrics, task: str, labels: list[str]) -> str:
    from peftspec.metrics.registry import METRICS, by_argmax

    threshold, tune_for = metrics.threshold, metrics.tune_for
    tuned = f"tuned on validation for {tune_for}; validation figures cross-fitted"
    if by_argmax(task, threshold):
        return "the class of highest probability (arg-max)"
    if task == "binary":
        if threshold == "tuned":
            return f"{labels[1]!r} at a threshold on its probability, {tuned}"
        return f"{labels[1]!r} when its probability is at least {threshold:g}"
    if threshold == "tuned":
        how = "searched jointly" if METRICS[tune_for].thresholds == "joint" else "each for its own F1"
        return f"a threshold per label ({how}), {tuned}"
    return f"every label at threshold {threshold:g}"


def held_out_line(dataset: DatasetSpec) -> str | None:
    """How validation was taken from the training rows, or None when the spec gives it."""
    if dataset.validation is not None:
        return None
    how = "by label" if dataset.stratify else "at random"
    if dataset.stratify and dataset.duplicates_together:
        how += ", copies of a text together"
    if dataset.folds is not None:
        folds = f"fold {dataset.fold} of folds 0-{dataset.folds - 1}"
        return f"{folds}, cut {how} (split_seed {dataset.split_seed})"
    share = f"{dataset.validation_split * 100:g}%"
    return f"{share} of the training rows, {how} (split_seed {dataset.split_seed})"


def speedups(
    trainer: TrainerSpec,
    precision: str,
    attention: str,
    on_gpu: bool,
    compiled_blocks: str | None = None,
    micro_line: str | None = None,
    liger: str | None = None,
) -> list[str]:
    """The fast defaults in force, as the overview shows them; `off:` marks ones the spec turned off.
    `compiled_blocks`: what `torch_compile` compiled; `micro_line`: the micro-batch chosen by
    `micro_batch = "auto"`; `liger`: what `liger_kernels` applied."""
    items = ["dynamic padding" + (" (to a multiple of 8)" if on_gpu else "")]
    items.append("length-grouped batches" if trainer.group_by_length else "off: length-grouped batches")
    batch = trainer.eval_batch_size
    items.append(f"evaluation sorted by length, batch {batch}, no autograd (in training too)")
    items.append(f"{attention} attention")
    if precision in ("bf16", "fp16"):
        items.append(f"{precision} mixed precision")
    fused = trainer.optimizer == "adamw_torch_fused"
    items.append("fused AdamW" if fused else f"off: fused AdamW ({trainer.optimizer})")
    if trainer.torch_compile:
        items.append(f"torch.compile of {compiled_blocks}" if compiled_blocks else "torch.compile")
    else:
        items.append("off: torch.compile")
    if not trainer.cast_adapter_inputs and precision in ("bf16", "fp16"):
        items.append("adapter inputs left to autocast (no cast to fp32)")
    if liger:
        items.append(liger)
    if micro_line:
        items.append(micro_line)
    return items


def processes_line(distributed, here, on_gpu: bool) -> str | None:
    """How many processes train together and how (None for one): `distributed` is the spec's
    section, `here` this process's `World`. FSDP shards over CUDA GPUs only: on CPUs accelerate
    replicates the model in each process, as DDP does, and the line says so."""
    if here.size == 1:
        return None
    line = f"{here.size} processes" + (f" on {here.nodes} nodes" if here.nodes > 1 else "")
    if distributed.strategy == "fsdp" and on_gpu:
        return f"{line}, fsdp {distributed.fsdp.sharding}"
    if distributed.strategy == "fsdp":
        return f"{line}, ddp: fsdp shards over CUDA GPUs only, so each process holds the whole model"
    return f"{line}, ddp"


def head_line(built) -> str:
    return (
        "fresh; bias starts at the training labels' frequencies"
        if built.head_bias_from_prior
        else "fresh (no bias to start at the label frequencies)"
    )


def _attention(model) -> str:
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", None) or "default")


def describe_device() -> str:
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        return f"cuda x{count} ({torch.cuda.get_device_name(0)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def render_overview(overview: Overview):
    """The overview as a rich table titled "Plan" (what `peftspec run` prints first)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Plan", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    trainable, total = overview.trainable_parameters or 0, overview.total_parameters or 0
    share = trainable / max(total, 1)
    rows = [
        ("backbone", overview.backbone),
        ("adapter", overview.adapter),
        ("quantisation", overview.quantization),
        ("task", task_line(overview.task, overview.labels, overview.positive_class)),
        *([("decisions", overview.decisions)] if overview.decisions else []),
        ("parameters", f"{trainable:,} trainable of {total:,} ({share:.2%})"),
        ("rows", ", ".join(f"{k} {v:,}" for k, v in overview.rows.items())),
        *([("held out", overview.held_out)] if overview.held_out else []),
        ("truncated", overview.truncated or "-"),
        ("steps", f"{overview.steps_per_epoch:,} per epoch, {overview.total_steps:,} in total"),
        ("effective batch", str(overview.effective_batch)),
        ("learning rate", overview.learning_rate or "-"),
        ("device", overview.device),
        ("precision", overview.precision),
        ("pooling", overview.pooling or "-"),
        ("head", overview.head or "-"),
        ("class weights", overview.class_weights or "none"),
        ("speed-ups", ", ".join(overview.speedups) or "none"),
    ]
    for key, value in rows:
        table.add_row(key, Text(str(value)))
    return table

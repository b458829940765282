"""`[trainer]` -> `transformers.TrainingArguments`: the one place where that mapping lives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peftspec.spec.distributed import DistributedSpec
from peftspec.spec.trainer import TrainerSpec


def resolve_precision(requested: str) -> str:
    """`auto` -> bf16 on GPUs that support it, fp16 on other GPUs, fp32 on CPU."""
    if requested != "auto":
        return requested
    import torch

    if not torch.cuda.is_available():
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def training_arguments_kwargs(
    trainer: TrainerSpec, *, output_dir: Path, precision: str, use_cpu: bool
) -> dict[str, Any]:
    """The keyword arguments of `TrainingArguments`, field by field from the spec."""
    evaluates = trainer.eval_strategy != "no"
    warmup = trainer.warmup_steps if trainer.warmup_steps else trainer.warmup_ratio
    return {
        "output_dir": str(output_dir),
        "num_train_epochs": trainer.epochs,
        "max_steps": trainer.max_steps or -1,
        "per_device_train_batch_size": trainer.batch_size,
        "per_device_eval_batch_size": trainer.eval_batch_size,
        "gradient_accumulation_steps": trainer.gradient_accumulation_steps,
        "learning_rate": trainer.learning_rate,
        "lr_scheduler_type": trainer.lr_scheduler,
        "warmup_steps": warmup,
        "optim": trainer.optimizer,
        "weight_decay": trainer.weight_decay,
        "max_grad_norm": trainer.max_grad_norm,
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "gradient_checkpointing": trainer.gradient_checkpointing,
        "gradient_checkpointing_kwargs": {"use_reentrant": False} if trainer.gradient_checkpointing else None,
        "eval_strategy": trainer.eval_strategy,
        "eval_steps": trainer.eval_steps,
        "save_strategy": trainer.save_strategy,
        "save_steps": trainer.save_steps,
        "save_total_limit": trainer.save_total_limit,
        "load_best_model_at_end": bool(trainer.load_best_model_at_end),
        "metric_for_best_model": trainer.best_metric if evaluates else None,
        "greater_is_better": (trainer.best_direction == "max") if evaluates else None,
        "seed": trainer.seed,
        "data_seed": trainer.seed,
        "train_sampling_strategy": "group_by_length" if trainer.group_by_length else "random",
        # `trainer.torch_compile` compiles the backbone's blocks (peftspec.build.compile), not the
        # whole model as the Trainer's own flag would
        "torch_compile": False,
        "logging_strategy": "steps",
        "logging_steps": trainer.logging_steps,
        "dataloader_num_workers": trainer.dataloader_workers,
        "dataloader_pin_memory": True,
        # workers that outlive an evaluation: no process start per epoch and per evaluation
        "dataloader_persistent_workers": trainer.dataloader_workers > 0,
        "label_names": ["labels"],
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": use_cpu,
    }


RENAMED = {
    "gradient_checkpointing": "activation_checkpointing",
    "gradient_checkpointing_kwargs": "activation_checkpointing_kwargs",
}
"""Arguments that newer transformers releases renamed (the old names still work, with a warning)."""


def distributed_kwargs(distributed: DistributedSpec, *, use_cpu: bool) -> dict[str, Any]:
    """DDP / FSDP arguments; none for one process (the Trainer's defaults)."""
    # classification losses are means over the batch: the Trainer's token-count rescaling for
    # language modelling (`average_tokens_across_devices`) would multiply them by the process count
    if distributed.strategy == "ddp":
        return {
            "ddp_find_unused_parameters": distributed.find_unused_parameters,
            "ddp_backend": "gloo" if use_cpu else None,
            "average_tokens_across_devices": False,
        }
    if distributed.strategy == "fsdp":
        fsdp = distributed.fsdp
        options = [fsdp.sharding, "auto_wrap"] + (["offload"] if fsdp.cpu_offload else [])
        config: dict[str, Any] = {"use_orig_params": fsdp.use_orig_params}
        if fsdp.auto_wrap == "size":
            config["min_num_params"] = fsdp.min_params
        return {
            "fsdp": " ".join(options),
            "fsdp_config": config,
            "ddp_find_unused_parameters": distributed.find_unused_parameters,  # DDP stands in on CPUs
            "ddp_backend": "gloo" if use_cpu else None,
            "average_tokens_across_devices": False,
        }
    return {}


def build_training_arguments(
    trainer: TrainerSpec,
    *,
    output_dir: Path,
    precision: str,
    use_cpu: bool,
    distributed: DistributedSpec | None = None,
):
    import inspect

    from transformers import TrainingArguments

    kwargs = training_arguments_kwargs(trainer, output_dir=output_dir, precision=precision, use_cpu=use_cpu)
    if distributed is not None:
        kwargs.update(distributed_kwargs(distributed, use_cpu=use_cpu))
    accepted = inspect.signature(TrainingArguments.__init__).parameters
    for old, new in RENAMED.items():
        if new in accepted and old in kwargs:
            kwargs[new] = kwargs.pop(old)
    return TrainingArguments(**kwargs)

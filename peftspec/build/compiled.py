"""`compile_run(spec) -> CompiledRun`: everything training needs, read out of the spec once.

The training side (`peftspec.train`) receives a `CompiledRun` and never sees the spec: the values
it reads are in `TrainSettings`, the start of the run record is in `record`, and the objects that
cost a model load (tokenizer, model with quantisation and adapter, tokenised datasets, collator,
metric computer, `TrainingArguments`) are built by `build_model()` when training starts, so a
backbone that cannot be loaded is recorded as a failed run rather than leaving no trace. Nothing
here trains or writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peftspec.build.data import DataBundle, load_data
from peftspec.runs.record import Overview, RunRecord
from peftspec.spec.render import render_spec
from peftspec.spec.root import Spec


@dataclass(frozen=True)
class WandbSettings:
    project: str
    entity: str | None
    tags: list[str]
    group: str | None
    mode: str
    notes: str | None
    config: dict[str, Any]
    """The resolved spec, as W&B's run config."""


@dataclass(frozen=True)
class TrainSettings:
    """The spec's values that the training loop reads, as plain data."""

    task: str
    label_names: list[str]
    metric_names: list[str]
    threshold: float | str
    """A fixed multi-label threshold, or `"tuned"` (tuned on validation after training)."""
    tune_for: str | None
    """The metric tuned thresholds maximise."""
    calibration: str
    """`temperature`: the final scores are calibrated by a temperature fitted on validation."""
    best_metric: str | None
    eval_batch_size: int
    max_length: int
    precision: str
    """Resolved: bf16, fp16 or fp32."""
    weights: str
    """`adapter`, or `model` when the whole backbone is fine-tuned."""
    quantized: bool
    early_stopping: tuple[int, float] | None = None
    """(patience, threshold) of early stopping, if on."""
    wandb: WandbSettings | None = None
    output_root: str = "runs"
    run_name: str = "run"
    class_weights: list[float] | None = None
    """The loss's weight of each label (multi-label) or class; None = unweighted."""


@dataclass
class ModelParts:
    """The objects that training needs and that cost a model load."""

    model: Any
    tokenizer: Any
    added_pad_token: bool
    wrapped_modules: list[str]
    architecture: str
    pooling: str
    """The pooling the head reads (cls, pooler, mean or last); reloads use the same."""
    head_pooling: str
    """The pooling the architecture's own head does."""
    datasets: dict[str, Any]
    """Tokenised splits by name."""
    collator: Any
    computer: Any
    """`compute_metrics` for the Trainer (`peftspec.metrics.computer.MetricComputer`)."""
    overview: Overview
    compiled_blocks: str | None = None
    """What `trainer.torch_compile` compiled; None: nothing."""


@dataclass
class CompiledRun:
    settings: TrainSettings
    data: DataBundle
    record: RunRecord
    """The run record to start with (what the spec and the data say)."""
    spec_files: list[str]
    """The spec file and each base it extends (copied into the run)."""
    render: Callable[[str], str]
    """The resolved spec as TOML, under a header line."""
    build_model: Callable[[], ModelParts]
    training_arguments: Callable[[Path], Any]
    """`TrainingArguments` writing checkpoints under the given folder."""
    reload: Callable[[Path, bool, str], tuple[Any, Any]]
    """(model, tokenizer) from a saved weights folder (whether a pad token was added, the pooling)."""


def compile_run(
    spec: Spec,
    spec_files: list[str] | None = None,
    overrides: list[str] | None = None,
    data: DataBundle | None = None,
) -> CompiledRun:
    """Check the data (raising `DataError` with every problem) and read the spec into a
    `CompiledRun`. `data`: rows already loaded and checked (`peftspec check` passes a sample)."""
    from peftspec.build.training_args import resolve_precision
    from peftspec.plan.learning_rate import learning_rate_for

    learning_rate = learning_rate_for(spec)
    if spec.trainer.learning_rate is None:  # the default trained with is what the run's spec records
        spec = spec.model_copy(deep=True)
        spec.trainer.learning_rate = learning_rate.value
    bundle = data or load_data(spec.dataset)
    precision = resolve_precision(spec.trainer.precision)
    spec, micro_line = resolve_micro_batch(spec, len(bundle.label_names), precision)
    settings = _settings(spec, bundle, precision)
    files = list(spec_files or [])
    record = RunRecord(
        name=spec.name,
        description=spec.description,
        spec_file=files[0] if files else None,
        overrides=list(overrides or []),
        backbone=spec.backbone.model,
        adapter=spec.adapter.kind,
        quantization=spec.quantization.method,
        task=bundle.task,
        labels=bundle.label_names,
        rows={s.name: len(s) for s in bundle.splits()},
        data_hashes=bundle.hashes,
        data_warnings=[str(p) for p in bundle.warnings],
        seed=spec.trainer.seed,
        precision=precision,
        weights=settings.weights,
    )
    return CompiledRun(
        settings=settings,
        data=bundle,
        record=record,
        spec_files=files,
        render=lambda header: render_spec(spec, header=header),
        build_model=lambda: build_parts(
            spec, bundle, precision, learning_rate.line(), settings.class_weights, micro_line
        ),
        training_arguments=lambda folder: _training_arguments(spec, folder, precision),
        reload=lambda folder, added_pad, pooling: _reload(
            spec, bundle.label_names, folder, added_pad, precision, pooling
        ),
    )


def _settings(spec: Spec, bundle: DataBundle, precision: str) -> TrainSettings:
    import os

    from peftspec.build.class_weights import class_weights

    early = spec.trainer.early_stopping
    wandb = spec.tracking.wandb
    mode = wandb.effective_mode(os.environ) if wandb is not None else "disabled"
    return TrainSettings(
        task=bundle.task,
        label_names=list(bundle.label_names),
        metric_names=list(spec.metrics.names or []),
        threshold=spec.metrics.threshold,
        tune_for=spec.metrics.tune_for,
        calibration=spec.metrics.calibration,
        best_metric=spec.trainer.best_metric,
        eval_batch_size=spec.trainer.eval_batch_size,
        max_length=spec.dataset.max_length,
        precision=precision,
        weights="model" if spec.adapter.trains_backbone else "adapter",
        quantized=spec.quantization.method != "none",
        early_stopping=(early.patience, early.threshold) if early is not None else None,
        wandb=None
        if wandb is None or mode == "disabled"
        else WandbSettings(
            project=wandb.project,
            entity=wandb.entity,
            tags=list(wandb.tags or []),
            group=wandb.group,
            mode=mode,
            notes=spec.description or None,
            config=spec.model_dump(mode="json"),
        ),
        output_root=spec.tracking.output_root,
        class_weights=class_weights(
            spec.trainer.class_weights, bundle.task, list(bundle.label_names), bundle.train.labels
        ),
        run_name=spec.tracking.run_name or spec.name,
    )


def build_parts(
    spec: Spec,
    bundle: DataBundle,
    precision: str,
    learning_rate: str,
    class_weights: list[float] | None = None,
    micro_line: str | None = None,
) -> ModelParts:
    """Tokenizer, model (quantisation, adapter), tokenised splits, collator, metric computer and
    the overview printed before training."""
    import torch
    from transformers import set_seed

    from peftspec.build.model import build_model
    from peftspec.build.overview import overview_of
    from peftspec.build.tokenize import collator, to_dataset
    from peftspec.build.truncation import measure, truncation_line
    from peftspec.metrics.computer import MetricComputer

    set_seed(spec.trainer.seed)  # the adapter and the new head are initialised from this
    from peftspec.build.head import prior_logits

    prior = prior_logits(bundle.train.labels, bundle.task, len(bundle.label_names))
    built = build_model(spec, bundle.label_names, precision, _total_steps(spec, bundle), prior)
    max_length = spec.dataset.max_length
    truncate = spec.dataset.truncate
    datasets = {
        s.name: to_dataset(s, built.tokenizer, max_length, bundle.task, truncate) for s in bundle.splits()
    }
    cuts = {s.name: measure(s, datasets[s.name], built.tokenizer, max_length) for s in bundle.splits()}
    return ModelParts(
        model=built.model,
        tokenizer=built.tokenizer,
        added_pad_token=built.added_pad_token,
        wrapped_modules=built.wrapped_modules,
        architecture=built.architecture,
        pooling=built.pooling.method,
        head_pooling=built.pooling.native,
        datasets=datasets,
        collator=collator(built.tokenizer),
        compiled_blocks=built.compiled_blocks,
        computer=MetricComputer(
            spec.metrics.names or [], bundle.task, bundle.label_names, training_threshold(spec, bundle.task)
        ),
        overview=overview_of(
            spec,
            bundle,
            built,
            precision,
            torch.cuda.is_available(),
            learning_rate,
            class_weights,
            micro_line,
            truncation_line(cuts, max_length, truncate),
        ),
    )


def resolve_micro_batch(
    spec: Spec, labels: int, precision: str, budget: float | None = None
) -> tuple[Spec, str | None]:
    """`trainer.micro_batch = "auto"`: the spec with the batch cut chosen for this GPU (the run's
    spec records what ran), and the line the plan shows. `budget`: bytes of GPU memory (None:
    this process's GPU, if any)."""
    if spec.trainer.micro_batch != "auto":
        return spec, None
    from peftspec.build.environment import gpu_memory
    from peftspec.plan.config import real_config
    from peftspec.plan.micro import fit_micro_batch

    budget = budget if budget is not None else gpu_memory()
    config = real_config(spec.backbone)[0] if budget is not None else None
    t = spec.trainer
    chosen = fit_micro_batch(spec, config, labels, budget, "fp32" if precision == "fp32" else "bf16")
    line = chosen.line(t.batch_size, t.gradient_accumulation_steps)
    spec = spec.model_copy(deep=True)
    spec.trainer.batch_size = chosen.batch_size
    spec.trainer.gradient_accumulation_steps = chosen.accumulation
    return spec, line


def _total_steps(spec: Spec, bundle: DataBundle) -> int:
    """The optimizer steps the run will take (AdaLoRA's rank budget is scheduled over them)."""
    from peftspec.build.environment import world
    from peftspec.build.overview import step_counts

    return step_counts(spec.trainer, len(bundle.train), world().size)[1]


def _training_arguments(spec: Spec, folder: Path, precision: str):
    import torch

    from peftspec.build.training_args import build_training_arguments

    return build_training_arguments(
        spec.trainer,
        output_dir=folder,
        precision=precision,
        use_cpu=not torch.cuda.is_available(),
        distributed=spec.distributed,
    )


def _reload(spec: Spec, label_names: list[str], folder: Path, added_pad: bool, precision: str, pooling: str):
    import torch

    from peftspec.build.model import load_trained

    model, tokenizer = load_trained(spec, label_names, folder, added_pad, precision, pooling)
    if torch.cuda.is_available() and spec.quantization.method == "none":
        model = model.to("cuda")
    return model, tokenizer


def training_threshold(spec: Spec, task: str) -> float | None:
    """The threshold the evaluations during training decide at: the spec's fixed one (so the best
    checkpoint is chosen on the decisions the run will report), else None (every label at 0.5, a
    binary task's arg-max) while tuned thresholds wait for the end of training."""
    from peftspec.metrics.registry import by_argmax

    threshold = spec.metrics.threshold
    return threshold if isinstance(threshold, float) and not by_argmax(task, threshold) else None

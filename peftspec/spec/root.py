"""The whole spec: top-level keys, the sections, and the rules that span sections."""

from __future__ import annotations

from pydantic import Field, model_validator

from peftspec.metrics.registry import (
    DEFAULT_METRICS,
    LOSS,
    METRICS,
    PRIMARY_METRIC,
    higher_is_better,
    metrics_for,
    tunable_metrics,
)
from peftspec.spec.adapters import Adapter, LoraAdapter
from peftspec.spec.backbone import BackboneSpec
from peftspec.spec.base import Rules, SpecModel
from peftspec.spec.dataset import DatasetSpec
from peftspec.spec.diagnostics import did_you_mean
from peftspec.spec.distributed import DistributedSpec
from peftspec.spec.metrics import MetricsSpec
from peftspec.spec.paths import NAME_PATTERN
from peftspec.spec.quantization import NoQuantization, Quantization
from peftspec.spec.sweep import SweepSpec
from peftspec.spec.tracking import TrackingSpec
from peftspec.spec.trainer import TrainerSpec

SCHEMA_VERSION = 1


class Spec(SpecModel):
    """A peftspec experiment: data, backbone, adapter, quantisation, training, metrics, tracking."""

    schema_version: int = SCHEMA_VERSION
    """Version of the spec format; this release reads version 1."""
    name: str = Field(min_length=1, max_length=120, pattern=NAME_PATTERN)
    """Experiment name: letters, digits, `.`, `_` and `-`; names the run directory."""
    description: str = ""
    """What this experiment is for; shown in run listings and reports."""
    extends: str | None = None
    """A base spec (path relative to this file) whose values this one overrides, key by key; a
    table whose `kind`/`method`/`format` changes replaces the base's table. Resolved at load
    time, so a resolved spec never has it."""
    dataset: DatasetSpec
    """Data sources, columns and labels."""
    backbone: BackboneSpec
    """The pretrained model."""
    adapter: Adapter = Field(default_factory=LoraAdapter)
    """The PEFT method, chosen by `kind`; `none` = full fine-tuning."""
    quantization: Quantization = Field(default_factory=NoQuantization)
    """Backbone quantisation, chosen by `method`; `bnb-4bit` with LoRA = QLoRA."""
    trainer: TrainerSpec = Field(default_factory=TrainerSpec)
    """Optimisation and checkpointing."""
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    """Evaluation metrics and the decision threshold."""
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)
    """Run naming, output folder and W&B."""
    distributed: DistributedSpec = Field(default_factory=DistributedSpec)
    """Several GPUs or nodes (DDP or FSDP through torchrun); unset = one process."""
    sweep: SweepSpec | None = None
    """A hyperparameter search over this spec (`peftspec sweep SPEC`); unset = none. `peftspec run`
    ignores it."""

    @model_validator(mode="after")
    def _rules(self) -> Spec:
        rules = Rules()
        if self.schema_version != SCHEMA_VERSION:
            rules.fail(
                "schema_version",
                f"schema_version {self.schema_version} is not supported; "
                f"this peftspec reads version {SCHEMA_VERSION}",
                suggestion=str(SCHEMA_VERSION),
            )
        if self.tracking.run_name is None:
            self.tracking.run_name = self.name
        self._check_quantization(rules)
        self._check_precision(rules)
        self._check_metrics(rules)
        self._check_distributed(rules)
        self._check_class_weights(rules)
        self._check_sweep(rules)
        rules.raise_any()
        return self

    def _check_sweep(self, rules: Rules) -> None:
        """The sweep's metric and sampler; its keys and ranges are checked against the whole spec
        by `peftspec.spec.sweep_check` (each key a spec key, each trial's spec valid)."""
        sweep = self.sweep
        if sweep is None:
            return
        if (
            sweep.metric is not None
            and sweep.metric != LOSS
            and sweep.metric not in metrics_for(self.dataset.task)
        ):
            rules.fail(
                "sweep.metric",
                _unknown_metric(sweep.metric, self.dataset.task),
                did_you_mean(sweep.metric, [LOSS, *metrics_for(self.dataset.task)]),
                code="unknown-metric",
            )
        if sweep.folds is not None and self.dataset.validation is not None:
            rules.fail(
                "sweep.folds",
                "sweep.folds cross-validates each trial on folds of the training data, and the spec "
                "gives validation data: remove dataset.validation, or sweep.folds",
            )
        for key in ("dataset.folds", "dataset.fold"):
            if sweep.folds is not None and key in sweep.space:
                rules.fail(("sweep", "space", key), f"sweep.folds sets {key} for each fold: do not search it")
        if sweep.sampler == "grid":
            from peftspec.spec.sweep import Distribution

            for kind, table in sweep.adapter_tables().items():
                for key, value in table.items():
                    if isinstance(value, Distribution) and value.grid() is None:
                        rules.fail(
                            ("sweep", "adapters", kind, key),
                            "a grid needs listed values: a `choice` or an `integer` range",
                        )
        for key, distribution in sweep.space.items():
            if sweep.sampler == "grid" and distribution.grid() is None:
                rules.fail(
                    ("sweep", "space", key),
                    f"a grid needs listed values: give {key!r} a `choice` or an `integer` range, "
                    'or use sampler = "tpe"',
                )

    def _check_class_weights(self, rules: Rules) -> None:
        """A weights table may name only labels the spec declares (when it declares them; data
        whose labels are read from the rows is checked when the run starts)."""
        weights, labels = self.trainer.class_weights, self.dataset.labels
        declared = labels.label_names() if hasattr(labels, "label_names") else getattr(labels, "names", None)
        if not isinstance(weights, dict) or not declared:
            return
        for name in weights:
            if name not in declared:
                rules.fail(
                    ("trainer", "class_weights", name),
                    f"{name!r} is not a label of this spec; its labels: {', '.join(declared)}",
                    did_you_mean(name, declared),
                    code="unknown-label",
                )

    def _check_quantization(self, rules: Rules) -> None:
        method = self.quantization.method
        if method != "none" and self.adapter.trains_backbone:
            rules.fail(
                "quantization.method",
                f"{method} quantisation freezes the backbone, so it "
                'needs an adapter to train; set adapter.kind (e.g. "lora" for QLoRA) or '
                "remove [quantization]",
            )

    def _check_precision(self, rules: Rules) -> None:
        if self.trainer.precision != "fp16":
            return
        if self.backbone.dtype == "bfloat16":
            rules.fail(
                "trainer.precision",
                'fp16 training on a bfloat16 backbone (backbone.dtype = "bfloat16"); use precision = "bf16"',
                suggestion="bf16",
            )
        if getattr(self.quantization, "compute_dtype", None) == "bfloat16":
            rules.fail(
                "trainer.precision",
                "fp16 training with a bfloat16 quantisation compute "
                'dtype; use precision = "bf16" or compute_dtype = "float16"',
                suggestion="bf16",
            )

    def _check_distributed(self, rules: Rules) -> None:
        """Combinations known to fail under DDP or FSDP, reported before any GPU is rented."""
        dist, quant = self.distributed, self.quantization
        if dist.strategy == "fsdp" and quant.method == "bnb-8bit":
            rules.fail(
                "quantization.method",
                "8-bit bitsandbytes weights cannot be sharded by FSDP; use bnb-4bit with "
                'storage_dtype = compute_dtype, or strategy = "ddp"',
                suggestion="bnb-4bit",
            )
        if dist.strategy == "fsdp" and quant.method == "bnb-4bit":
            compute = quant.compute_dtype if quant.compute_dtype != "auto" else _precision_dtype(self)
            if quant.storage_dtype != compute:
                rules.fail(
                    "quantization.storage_dtype",
                    f"FSDP shards 4-bit weights only when they are stored in the compute dtype; "
                    f"set storage_dtype = {compute!r} (it is {quant.storage_dtype!r})",
                    suggestion=compute,
                )
        if dist.strategy == "fsdp" and not self.adapter.trains_backbone and not dist.fsdp.use_orig_params:
            rules.fail(
                "distributed.fsdp.use_orig_params",
                "adapters train some parameters of a layer and freeze the rest, which FSDP allows only "
                "with use_orig_params = true",
                suggestion="true",
            )
        if dist.strategy == "ddp" and self.trainer.gradient_checkpointing and dist.find_unused_parameters:
            rules.fail(
                "distributed.find_unused_parameters",
                "gradient checkpointing under DDP needs find_unused_parameters = false (peftspec "
                "already uses non-reentrant checkpointing, the other half of the fix)",
                suggestion="false",
            )

    def _check_metrics(self, rules: Rules) -> None:
        task = self.dataset.task
        valid = metrics_for(task)
        if self.metrics.names is None:
            self.metrics.names = list(DEFAULT_METRICS[task])
        for i, name in enumerate(self.metrics.names):
            if name not in valid:
                rules.fail(
                    ("metrics", "names", i),
                    _unknown_metric(name, task),
                    did_you_mean(name, valid),
                    code="unknown-metric",
                )
        if self.metrics.threshold == "tuned" and task == "multi_class":
            rules.fail(
                "metrics.threshold",
                "tuned thresholds apply to multi-label and binary tasks; a multi-class task decides by "
                'the highest score (with two classes, set dataset.task = "binary": its second class '
                "is the positive one)",
            )
        self._check_best_metric(rules, task)
        self._check_tune_for(rules, task)

    def _check_tune_for(self, rules: Rules, task: str) -> None:
        metrics, best = self.metrics, self.trainer.best_metric
        if metrics.threshold != "tuned":
            if metrics.tune_for is not None:
                rules.fail(
                    "metrics.tune_for",
                    'tune_for applies to tuned thresholds; set metrics.threshold = "tuned" or remove it',
                )
            return
        tunable = tunable_metrics(task)
        if metrics.tune_for is None:
            metrics.tune_for = best if best in tunable else PRIMARY_METRIC[task]
        elif metrics.tune_for not in tunable:
            why = (
                " (it is computed from the scores: no threshold changes it)"
                if metrics.tune_for in METRICS and METRICS[metrics.tune_for].thresholds == "none"
                else ""
            )
            rules.fail(
                "metrics.tune_for",
                f"thresholds cannot be tuned for {metrics.tune_for!r}{why}; "
                f"choose one of {', '.join(tunable)}",
                did_you_mean(metrics.tune_for, tunable),
                code="unknown-metric",
            )

    def _check_best_metric(self, rules: Rules, task: str) -> None:
        trainer = self.trainer
        if trainer.eval_strategy == "no":
            return
        scalar = [m for m in self.metrics.names or [] if m in METRICS and METRICS[m].scalar]
        if trainer.best_metric is None:
            primary = PRIMARY_METRIC[task]
            trainer.best_metric = primary if primary in scalar else (scalar or [LOSS])[0]
        name = trainer.best_metric
        if name != LOSS and name not in scalar:
            choices = [*scalar, LOSS]
            reason = (
                _unknown_metric(name, task)
                if name not in METRICS
                else (f"best_metric {name!r} is not among the computed scalar metrics ({', '.join(choices)})")
            )
            rules.fail("trainer.best_metric", reason, did_you_mean(name, choices), code="unknown-metric")
            return
        if trainer.best_direction is None:
            trainer.best_direction = "max" if higher_is_better(name) else "min"


def _precision_dtype(spec: Spec) -> str:
    """The compute dtype that `auto` resolves to for the trainer's precision (bf16 where unknown)."""
    return {"fp16": "float16", "fp32": "float32"}.get(spec.trainer.precision, "bfloat16")


def _unknown_metric(name: str, task: str) -> str:
    if name in METRICS:
        return f"metric {name!r} does not apply to {task} tasks"
    return f"unknown metric {name!r}; {task} tasks offer: {', '.join(metrics_for(task))}"

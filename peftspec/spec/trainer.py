"""`[trainer]`: the optimisation loop, mapped onto `transformers.TrainingArguments`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from peftspec.metrics.registry import METRICS
from peftspec.spec.base import Rules, SpecModel, known_words
from peftspec.spec.diagnostics import did_you_mean

Optimizer = Literal[
    "adamw_torch",
    "adamw_torch_fused",
    "adamw_8bit",
    "paged_adamw_32bit",
    "paged_adamw_8bit",
    "adafactor",
    "sgd",
    "lion_8bit",
    "paged_lion_8bit",
]
Scheduler = Literal[
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "warmup_stable_decay",
]
Strategy = Literal["no", "steps", "epoch"]


class EarlyStoppingSpec(SpecModel):
    """Stop when the best-model metric has not improved for `patience` evaluations."""

    patience: int = Field(default=3, ge=1)
    """Evaluations without improvement before training stops."""
    threshold: float = Field(default=0.0, ge=0)
    """Smallest change that counts as an improvement."""


class TrainerSpec(SpecModel):
    """Training hyperparameters. Batch sizes are per device; the effective batch is
    `batch_size x gradient_accumulation_steps x devices`."""

    epochs: float = Field(default=3.0, gt=0)
    """Passes over the training data (fractions allowed); ignored when `max_steps` is set."""
    max_steps: int | None = Field(default=None, ge=1)
    """Stop after this many optimizer steps; unset = train for `epochs`."""
    batch_size: int = Field(default=16, ge=1)
    """Training rows per device per step. Higher = faster and more memory."""
    eval_batch_size: int | None = Field(default=None, ge=1)
    """Evaluation rows per device per step; unset = twice `batch_size` (no gradients to keep)."""
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    """Steps whose gradients are summed before one optimizer update: a larger effective batch
    without more memory."""
    learning_rate: float | None = Field(default=None, gt=0)
    """Peak learning rate; unset = the default for the adapter kind and the backbone's size (LoRA:
    1e-3 under 200M parameters, 5e-4 under 1.5B, 2e-4 under 20B, 1e-4 above; IA3 about 10x
    that; full fine-tuning 5e-5 down to 5e-6), stated in the plan printed before training. The
    table is in the docs (Learning-rate defaults)."""
    lr_scheduler: Scheduler = "linear"
    """Learning-rate schedule after warm-up."""
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    """Fraction of the total steps spent warming the learning rate up from 0."""
    warmup_steps: int = Field(default=0, ge=0)
    """Warm-up steps; set this or `warmup_ratio`, not both."""
    optimizer: Optimizer = "adamw_torch_fused"
    """Optimizer. The default, AdamW with PyTorch's fused kernel (one kernel for all parameters, on
    CPU and GPU), computes the same update as `adamw_torch` (one kernel per parameter group)
    faster. `paged_*` and `*_8bit` use bitsandbytes: they save GPU memory, which helps only when
    the optimizer states would not fit otherwise (`peftspec plan` shows their size)."""
    weight_decay: float = Field(default=0.0, ge=0)
    """Decoupled weight decay (AdamW)."""
    max_grad_norm: float = Field(default=1.0, ge=0)
    """Clip the gradient norm to this value; 0 = no clipping."""
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    """Mixed precision; `auto` = bf16 where the GPU supports it, fp16 on other GPUs, fp32 on CPU."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: ~30% slower, much less memory."""
    eval_strategy: Strategy = "epoch"
    """When to evaluate on validation: every `eval_steps` steps, every epoch, or never."""
    eval_steps: int | None = Field(default=None, ge=1)
    """Steps between evaluations (`eval_strategy = "steps"`)."""
    save_strategy: Strategy | None = None
    """When to write a checkpoint; unset = the same as `eval_strategy`."""
    save_steps: int | None = Field(default=None, ge=1)
    """Steps between checkpoints (`save_strategy = "steps"`); unset = `eval_steps`."""
    save_total_limit: int | None = Field(default=2, ge=1)
    """Checkpoints kept on disk; the best one is always kept. 2 = the best and the latest."""
    load_best_model_at_end: bool | None = None
    """Finish with the best checkpoint's weights; unset = yes whenever there is evaluation."""
    best_metric: str | None = None
    """Metric that picks the best checkpoint (`f1_macro`, `loss`, ...); unset = the task's
    primary metric (F1 macro, or F1 for binary)."""
    best_direction: Literal["max", "min"] | None = None
    """Whether a higher or lower `best_metric` is better; unset = inferred from the metric."""
    early_stopping: EarlyStoppingSpec | None = None
    """Stop early when the best metric stalls; unset = train to the end."""
    seed: int = Field(default=42, ge=0, le=2**32 - 1)
    """Seed for weight init, dropout and data order."""
    group_by_length: bool = True
    """Batch rows of similar length together: much less padding, faster on short texts."""
    torch_compile: bool = False
    """Compile the backbone's repeated block (each decoder or encoder layer, adapter included) with
    `torch.compile`, dynamic in the sequence length: one compile serves every layer and every
    padded width. Faster steps on recent GPUs after a compile of some seconds, reported in the
    plan; worth it for long runs, not for short ones or on a CPU."""
    cast_adapter_inputs: bool = True
    """PEFT casts each adapted layer's input to the adapter's dtype (fp32) before the adapter. Under
    bf16 or fp16 mixed precision autocast casts it back for the matrix product, so the cast is
    extra work in every adapted layer; `false` skips it there (without mixed precision it changes
    nothing). The benchmark measures it before it may become the default."""
    liger_kernels: bool = False
    """Run Liger's Triton kernels for the backbone's RMSNorm, rotary embedding and gated MLP (fewer,
    fused kernels; Llama, Gemma, Qwen2, Mistral and other decoders Liger covers). Needs a CUDA GPU
    and `pip install 'peftspec[liger]'`; on a CPU it is off and the plan says so. The benchmark
    measures it before it may become the default."""
    micro_batch: Annotated[
        Literal["auto"] | None,
        known_words(
            "auto",
            expected='expected "auto" or unset: the rows of each pass are trainer.batch_size, and "auto" '
            "fits them to the GPU's memory",
            strings_only=False,
        ),
    ] = None
    """Rows per forward and backward pass. Unset = `batch_size`. `"auto"` keeps the effective
    batch (`batch_size x gradient_accumulation_steps`) and runs it as the largest micro-batch that
    the memory estimate of `peftspec plan` says fits the GPU, at `max_length` (e.g. 8 x 8 as
    64 x 1: fewer, larger kernels); the plan says what was chosen. On a CPU the spec's batch is
    kept."""
    logging_steps: int = Field(default=10, ge=1)
    """Steps between training-loss records in `metrics.jsonl`."""
    dataloader_workers: int = Field(default=0, ge=0)
    """Worker processes loading batches; 0 = in the training process."""
    class_weights: Literal["none", "balanced"] | dict[str, float] = "none"
    """Weights of the labels in the loss, for imbalanced data (macro-F1 is decided by the rare
    labels): `"balanced"` from the training labels (multi-label: each label's negatives over its
    positives, BCE `pos_weight`; single-label: rows / (classes x rows of the class), weighted
    cross-entropy), or a table `{ surprise = 8.0, trust = 6.0 }` (labels left out weigh 1). The
    weights are shown in the plan and recorded in the run."""

    @model_validator(mode="after")
    def _rules(self) -> TrainerSpec:
        rules = Rules()
        self._fill_defaults()
        if self.warmup_ratio and self.warmup_steps:
            rules.fail("warmup_steps", "set `warmup_steps` or `warmup_ratio`, not both")
        if self.eval_strategy == "steps" and self.eval_steps is None:  # save_steps defaults to it
            rules.fail("eval_steps", 'eval_strategy = "steps" needs `eval_steps`', code="missing-key")
        eval_steps_missing = self.eval_strategy == "steps" and self.eval_steps is None
        if self.save_strategy == "steps" and self.save_steps is None and not eval_steps_missing:
            rules.fail("save_steps", 'save_strategy = "steps" needs `save_steps`', code="missing-key")
        evaluates = self.eval_strategy != "no"
        if self.load_best_model_at_end and not evaluates:
            rules.fail(
                "load_best_model_at_end",
                'loading the best model needs evaluation; set eval_strategy to "steps" or "epoch"',
            )
        if "best_metric" in self.model_fields_set and not evaluates:
            rules.fail(
                "best_metric",
                'a best-model metric is set but eval_strategy = "no"; '
                "enable evaluation or remove `best_metric`",
            )
        if self.best_metric is not None and self.best_metric not in METRICS:
            known = [name for name, metric in METRICS.items() if metric.scalar]
            rules.fail(
                "best_metric",
                f"unknown metric {self.best_metric!r}; one-number metrics: {', '.join(known)}",
                did_you_mean(self.best_metric, known),
                code="unknown-metric",
            )
        if isinstance(self.class_weights, dict):
            if not self.class_weights:
                rules.fail("class_weights", 'an empty table; name labels and weights, or use "balanced"')
            for label, weight in self.class_weights.items():
                if not 0 < weight <= 1e6:
                    rules.fail(
                        ("class_weights", label),
                        f"weight {weight} of {label!r} must be above 0 (and at most 1e6)",
                    )
        if self.early_stopping is not None and not evaluates:
            rules.fail("early_stopping", "early stopping needs evaluation; set eval_strategy")
        if self.load_best_model_at_end and evaluates:
            self._check_save_matches_eval(rules)
        rules.raise_any()
        return self

    def _fill_defaults(self) -> None:
        if self.eval_batch_size is None:
            self.eval_batch_size = 2 * self.batch_size
        if self.save_strategy is None:
            self.save_strategy = self.eval_strategy
        if self.save_steps is None and self.save_strategy == "steps":
            self.save_steps = self.eval_steps
        if self.load_best_model_at_end is None:
            self.load_best_model_at_end = self.eval_strategy != "no"

    def _check_save_matches_eval(self, rules: Rules) -> None:
        if self.save_strategy != self.eval_strategy:
            rules.fail(
                "save_strategy",
                f"save_strategy ({self.save_strategy!r}) must match "
                f"eval_strategy ({self.eval_strategy!r}) when the best model is loaded at "
                "the end, or the best checkpoint may never be written",
            )
            return
        save, every = self.save_steps, self.eval_steps
        if self.eval_strategy == "steps" and save and every and save % every:
            nearest = every * max(1, round(save / every))
            rules.fail(
                "save_steps",
                f"save_steps ({save}) must be a multiple of eval_steps "
                f"({every}) when the best model is loaded at the end",
                suggestion=str(nearest),
            )

"""Backbone, tokenizer, quantisation and adapter -> the model to train (and to reload after)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peftspec.build.head import CLASSIFICATION_HEADS
from peftspec.build.pooling import Pooling, PoolingError, choose
from peftspec.build.pooling_head import CONFIG_KEY, install, native_method
from peftspec.errors import UserError
from peftspec.spec.adapters import PeftContext
from peftspec.spec.backbone import BackboneSpec
from peftspec.spec.packaged import model_source
from peftspec.spec.root import Spec

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


class ModelError(UserError):
    """The backbone or adapter cannot be built as specified; the message says why and what to do."""

    title = "Cannot build the model"


@dataclass
class BuiltModel:
    model: Any
    tokenizer: Any
    trainable_parameters: int
    total_parameters: int
    added_pad_token: bool
    wrapped_modules: list[str]
    architecture: str
    pooling: Pooling
    head_bias_from_prior: bool = False
    """The head's bias starts at the training labels' log-odds (`peftspec.build.head`)."""
    compiled_blocks: str | None = None
    """What `trainer.torch_compile` compiled (`peftspec.build.compile`); None: nothing."""
    liger: str | None = None
    """With `trainer.liger_kernels`: which Liger kernels run, or why none (`peftspec.build.liger`)."""


def build_tokenizer(backbone: BackboneSpec):
    """The tokenizer, with a pad token chosen as `backbone.pad_token` says. Returns (tokenizer, added)."""
    from transformers import AutoTokenizer

    from peftspec.build.hub import cache_only_if_unreachable

    name = backbone.tokenizer or backbone.model
    with cache_only_if_unreachable(name):
        tokenizer = AutoTokenizer.from_pretrained(
            model_source(name), revision=backbone.revision, trust_remote_code=backbone.trust_remote_code
        )
    return tokenizer, _ensure_pad_token(tokenizer, backbone.pad_token)


def _ensure_pad_token(tokenizer, policy: str) -> bool:
    if policy == "auto" and tokenizer.pad_token is not None:
        return False
    if policy == "new":
        tokenizer.add_special_tokens({"pad_token": "<pad>"})
        return True
    fallback = {"auto": "eos_token", "eos": "eos_token", "unk": "unk_token"}[policy]
    token = getattr(tokenizer, fallback)
    if token is None:
        raise ModelError(
            f"the tokenizer has no pad token and no {fallback.removesuffix('_token')} token "
            'to reuse; set backbone.pad_token = "new" to add one'
        )
    tokenizer.pad_token = token
    return False


def compute_dtype(spec: Spec, precision: str) -> str:
    configured = getattr(spec.quantization, "compute_dtype", "auto")
    return DTYPES[precision] if configured == "auto" else configured


FULL_PRECISION = [*CLASSIFICATION_HEADS, "pooler"]
"""Never quantised: the head, and the pooler (small, and trained in full when pooling needs it)."""


def unquantised_modules(spec: Spec) -> list[str]:
    """Modules kept in full precision: the head and pooler, modules trained in full, and the spec's
    extra skips."""
    trained = spec.adapter.saved_modules()
    return sorted({*FULL_PRECISION, *trained, *(spec.quantization.skip_modules or [])})


def skip_patterns(names: list[str]) -> list[str]:
    """`llm_int8_skip_modules` entries matching each name at any depth, as peft's `modules_to_save` does:
    the bare name (substring matching in older transformers) and a regex (newer transformers match
    from the start of the module path)."""
    return [p for name in names for p in (name, rf"(?:.*\.)?{re.escape(name)}")]


def load_backbone(
    spec: Spec, label_names: list[str], precision: str, tokenizer, added_pad: bool, pooling: str | None = None
) -> tuple[Any, Pooling]:
    """The pretrained backbone with a fresh classification head for `label_names`, pooling as
    `pooling` says (a method, `native` for the head's own, or None: resolve `backbone.pooling`).
    From the cache alone when the Hub cannot be reached (`peftspec.build.hub`)."""
    from peftspec.build.hub import cache_only_if_unreachable

    with cache_only_if_unreachable(spec.backbone.model):
        return _load_backbone(spec, label_names, precision, tokenizer, added_pad, pooling)


def _load_backbone(
    spec: Spec, label_names: list[str], precision: str, tokenizer, added_pad: bool, pooling: str | None
) -> tuple[Any, Pooling]:
    import torch
    from transformers import AutoModelForSequenceClassification

    backbone, quant = spec.backbone, spec.quantization
    kwargs: dict[str, Any] = {
        "num_labels": len(label_names),
        "problem_type": (
            "multi_label_classification"
            if spec.dataset.task == "multi_label"
            else "single_label_classification"
        ),
        "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
        "revision": backbone.revision,
        "trust_remote_code": backbone.trust_remote_code,
        "use_safetensors": None if backbone.allow_pickle_weights else True,
    }
    if backbone.attention != "auto":
        kwargs["attn_implementation"] = backbone.attention
    if quant.method != "none":
        dtype = compute_dtype(spec, precision)
        kwargs["quantization_config"] = quant.to_bnb_config(dtype, skip_patterns(unquantised_modules(spec)))
        kwargs["dtype"] = (
            getattr(torch, dtype) if backbone.dtype == "auto" else getattr(torch, backbone.dtype)
        )
        # one copy per process, on that process's device (torchrun sets LOCAL_RANK)
        kwargs["device_map"] = (
            {"": int(os.environ.get("LOCAL_RANK", 0))} if torch.cuda.is_available() else "cpu"
        )
    else:
        kwargs["dtype"] = "auto" if backbone.dtype == "auto" else getattr(torch, backbone.dtype)
    source = model_source(backbone.model)
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            source, output_loading_info=True, **kwargs
        )
    except (OSError, ValueError) as exc:
        hint = ""
        if not backbone.allow_pickle_weights and "safetensors" in str(exc):
            hint = (
                "; peftspec loads safetensors weights only, since pickle files (.bin) can run code: "
                "set backbone.allow_pickle_weights = true if you trust this model"
            )
        raise ModelError(f"cannot load backbone {backbone.model!r}: {exc}{hint}") from None
    if added_pad:
        model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    chosen = _pooling(spec, model, source, list(info.get("missing_keys") or []), pooling)
    install(model, chosen.method)
    return model, chosen


def _pooling(spec: Spec, model, source: str, missing: list[str], recorded: str | None) -> Pooling:
    if recorded is not None:
        native = native_method(model)
        return Pooling(native if recorded == "native" else recorded, native, "as the run recorded it")
    try:
        return choose(spec.backbone.pooling, model, source, spec.backbone.revision, missing)
    except PoolingError as exc:
        raise ModelError(str(exc)) from None


def _prepare_quantized(model, spec: Spec):
    """peft's k-bit preparation (fp32 norms, input gradients). Applied when reloading too: bitsandbytes
    takes a different (bf16-packed) CPU kernel path without it, which shifts scores by ~1e-4."""
    if spec.quantization.method == "none":
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(
        model,
        use_gradient_checkpointing=spec.trainer.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
    )


def build_model(
    spec: Spec,
    label_names: list[str],
    precision: str,
    total_steps: int | None = None,
    prior: Any = None,
) -> BuiltModel:
    """The model to train; `prior`: the head's starting bias (`peftspec.build.head.prior_logits`)."""
    from peftspec.build.head import init_head_bias

    tokenizer, added_pad = build_tokenizer(spec.backbone)
    # saved with the run and its exports: a plain `truncation=True` then cuts where training did
    side = "left" if spec.dataset.truncate == "start" else "right"
    tokenizer.truncation_side = tokenizer.init_kwargs["truncation_side"] = side
    model, pooling = load_backbone(spec, label_names, precision, tokenizer, added_pad)
    head_bias = prior is not None and init_head_bias(model, prior)
    model = _prepare_quantized(model, spec)
    architecture = type(model).__name__
    context = PeftContext(
        total_steps=total_steps, tokenizer=model_source(spec.backbone.tokenizer or spec.backbone.model)
    )
    peft_config = spec.adapter.to_peft_config(context)
    wrapped: list[str] = []
    if peft_config is not None and pooling.train:
        saved = getattr(peft_config, "modules_to_save", None) or []
        peft_config.modules_to_save = sorted({*saved, *pooling.train})
    if peft_config is not None:
        model = _wrap(model, peft_config, spec)
        wrapped = sorted(getattr(model.peft_config["default"], "target_modules", None) or [])
    if peft_config is not None and not spec.trainer.cast_adapter_inputs and precision in ("bf16", "fp16"):
        skip_input_casts(model)
    trainable, total = count_parameters(model)
    liger = None
    if spec.trainer.liger_kernels:  # before compiling, so that the compiled blocks hold them
        import torch

        from peftspec.build.liger import apply_liger_kernels

        liger = apply_liger_kernels(model, on_gpu=torch.cuda.is_available())
    compiled = None
    if spec.trainer.torch_compile:
        from peftspec.build.compile import compile_blocks

        compiled = compile_blocks(model)
    return BuiltModel(
        model,
        tokenizer,
        trainable,
        total,
        added_pad,
        wrapped,
        architecture,
        pooling,
        head_bias,
        compiled,
        liger,
    )


def skip_input_casts(model) -> int:
    """`trainer.cast_adapter_inputs = false`: the adapter layers take their input in the dtype it
    comes in (autocast casts it for the matrix product). Returns the number of layers changed."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    layers = [m for m in model.modules() if isinstance(m, BaseTunerLayer)]
    for layer in layers:
        layer.cast_input_dtype_enabled = False
    return len(layers)


def _wrap(model, peft_config, spec: Spec):
    from peft import get_peft_model

    try:
        return get_peft_model(model, peft_config)
    except ValueError as exc:
        raise ModelError(
            f"cannot attach the {spec.adapter.kind} adapter to {spec.backbone.model!r}: {exc}. "
            "Check adapter.target_modules against the model's module names"
        ) from None


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameters; 4-bit weights count as their unpacked size."""
    trainable = total = 0
    for param in model.parameters():
        n = param.numel()
        if param.__class__.__name__ == "Params4bit":
            n *= 2
        total += n
        if param.requires_grad:
            trainable += n
    return trainable, total


def save_trained(model, tokenizer, folder: Path, state: dict | None = None) -> None:
    """The adapter (and the trained head) as safetensors, or the whole model for full fine-tuning;
    `state`: the weights to save, when the model holds only a shard of them (FSDP)."""
    model.save_pretrained(folder, safe_serialization=True, **({"state_dict": state} if state else {}))
    tokenizer.save_pretrained(folder)


def load_trained(
    spec: Spec,
    label_names: list[str],
    folder: Path,
    added_pad_token: bool,
    precision: str = "fp32",
    pooling: str = "native",
):
    """Reload a trained run for inference: the backbone as trained plus the saved adapter (or the
    whole fine-tuned model), pooling as the run did (`native`: the head's own, as runs recorded
    before pooling was a choice). Returns (model in eval mode, tokenizer)."""
    from transformers import AutoModelForSequenceClassification

    if spec.adapter.trains_backbone:
        from transformers import AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained(folder)
        install(model, getattr(model.config, CONFIG_KEY, None) or pooling)  # saved with the model
        return model.eval(), AutoTokenizer.from_pretrained(folder)
    base = load_base(spec, label_names, folder, added_pad_token, precision, pooling)
    return attach_trained(spec, base, folder, label_names)


def load_base(
    spec: Spec,
    label_names: list[str],
    folder: Path,
    added_pad_token: bool,
    precision: str,
    pooling: str = "native",
):
    """The backbone a run's adapter was trained on, prepared as in training, without the adapter."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model, _ = load_backbone(spec, label_names, precision, tokenizer, added_pad_token, pooling)
    return _prepare_quantized(model, spec)


def recorded_pooling(record) -> str:
    """The pooling a run (`peftspec.runs.RunRecord`) trained with; `native` for runs recorded before
    pooling was a choice (they used the head's own)."""
    return (record.model.pooling if record.model is not None else None) or "native"


def load_backbone_for(spec: Spec, label_names: list[str], folder: Path, record):
    """`load_base` for a run's record (`peftspec.runs.RunRecord`)."""
    return load_base(
        spec,
        label_names,
        folder,
        record.added_pad_token,
        record.precision or "fp32",
        recorded_pooling(record),
    )


def attach_trained(spec: Spec, base, folder: Path, label_names: list[str]):
    """The saved adapter (and head) of `folder` on `base`; returns (model in eval mode, tokenizer)."""
    from peft import PeftModel
    from transformers import AutoTokenizer

    base.config.id2label = dict(enumerate(label_names))
    base.config.label2id = {name: i for i, name in enumerate(label_names)}
    model = PeftModel.from_pretrained(base, folder)
    return model.eval(), AutoTokenizer.from_pretrained(folder)

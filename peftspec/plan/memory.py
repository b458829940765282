"""Estimate the peak memory of training a spec, before any download.

The model is built on PyTorch's `meta` device from the backbone's config (a local folder, the HF
cache, or the built-in family table), so parameter counts are exact: weights at their stored
precision (4-bit and 8-bit layers at their packed size), the trainable adapter and head in fp32,
their gradients and optimizer states. Activations follow a per-token, per-layer count of the
tensors a transformer layer keeps for the backward pass; gradient checkpointing keeps only each
layer's input plus one layer's full set. The figure is what PyTorch allocates; the CUDA context and
allocator slack come on top (the advice keeps 10% headroom).
"""

from __future__ import annotations

from dataclasses import dataclass, field

BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
NF4_BYTES = {True: 0.5 + 1 / 64 + 4 / (64 * 256), False: 0.5 + 4 / 64}
"""Bytes per 4-bit weight: packed nibbles plus the block scales (double quantisation packs those)."""
OPTIMIZER_STATES = {"adamw_torch": 8, "adamw_torch_fused": 8, "paged_adamw_32bit": 8, "adafactor": 4}
"""Bytes of optimizer state per trainable parameter (8-bit Adam variants: 2)."""
GiB = 1024**3


@dataclass
class MemoryEstimate:
    parts: dict[str, float]
    """Bytes per component: weights, trainable copies, gradients, optimizer, activations."""
    total_parameters: int
    trainable_parameters: int
    tokens_per_step: int
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.parts.values())


@dataclass
class Shapes:
    """What activations depend on: sizes read from the config."""

    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_width: int
    vocab: int
    gated: bool


def shapes_of(config) -> Shapes:
    heads = getattr(config, "num_attention_heads", 12)
    hidden = config.hidden_size
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    kv = getattr(config, "num_key_value_heads", None) or heads
    gated = getattr(config, "model_type", "") not in ("bert", "roberta", "deberta-v2", "phi", "distilbert")
    return Shapes(
        config.num_hidden_layers,
        hidden,
        getattr(config, "intermediate_size", 4 * hidden),
        heads,
        kv * head_dim,
        config.vocab_size,
        gated,
    )


def activation_bytes(
    s: Shapes, batch: int, seq: int, act_bytes: int, checkpointing: bool, hidden_bytes: int | None = None
) -> float:
    """Tensors kept for backward: per token, per layer, about 8 hidden-wide and 3 (gated: 4)
    intermediate-wide activations plus q/k/v (BERT-style encoders also keep attention probabilities
    wide = (8 * s.hidden + 2 * s.kv_width) * hidden_bytes
    per_layer = wide + (4 if s.gated else 3) * s.intermediate * act_bytes
    full set during its recomputation."""
    tokens = batch * seq
    hidden_bytes = hidden_bytes or act_bytes
    per_layer = (8 * s.hidden + 2 * s.kv_width) * hidden_bytes + (
        4 if s.gated else 3
    ) * s.intermediate * act_bytes
    if not s.gated:  # BERT-style encoders: attention probabilities and dropout masks are kept too
        per_layer += s.heads * seq * (act_bytes + 1) + 3 * s.hidden
    if checkpointing:
        return tokens * (s.layers * s.hidden * hidden_bytes + per_layer)
    return tokens * s.layers * per_layer


def meta_model(config, num_labels: int, spec):
    """The classifier (with the spec's adapter) on the meta device: shapes, no memory."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from peftspec.spec.adapters import PeftContext

    config.num_labels = num_labels
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    peft_config = spec.adapter.to_peft_config(PeftContext(total_steps=100, tokenizer=None))
    if peft_config is not None:
        from peft import get_peft_model

        model = get_peft_model(model, peft_config)
    return model


@dataclass
class ParameterBytes:
    """What the parameters cost: frozen weights at their stored precision, trainable ones in fp32.
    It depends on the backbone, adapter and quantisation only, not on the trainer settings."""

    weights: float
    trainable_bytes: float
    total: int
    trainable: int


def parameter_bytes(spec, config, num_labels: int) -> ParameterBytes:
    """Count the classifier's parameters on the meta device, each at the bytes it will take."""
    from peftspec.build.model import unquantised_modules

    method = spec.quantization.method
    model = meta_model(config, num_labels, spec)
    keep = unquantised_modules(spec) if method != "none" else []
    weight_dtype = spec.backbone.dtype if spec.backbone.dtype != "auto" else str(config.dtype or "float32")
    weight_dtype = weight_dtype.replace("torch.", "")
    counted = ParameterBytes(0.0, 0.0, 0, 0)
    modules = dict(model.named_modules())
    for name, param in model.named_parameters():
        n = param.numel()
        owner = name.rsplit(".", 1)[0]
        counted.total += n
        if param.requires_grad:
            counted.trainable += n
            counted.trainable_bytes += 4 * n  # adapters and the head train in fp32
        elif method != "none" and _quantised(owner, modules.get(owner), keep):
            counted.weights += n * (
                NF4_BYTES[spec.quantization.double_quant] if method == "bnb-4bit" else 1.0 + 4 / 4096
            )
        else:  # k-bit preparation upcasts the layers it does not quantise to fp32
            counted.weights += n * (4 if method != "none" else BYTES.get(weight_dtype, 4))
    return counted


def estimate(
    spec,
    config,
    num_labels: int,
    seq: int | None = None,
    precision: str = "bf16",
    params: ParameterBytes | None = None,
) -> MemoryEstimate:
    """Peak training memory of `spec` on `config`'s architecture, in bytes by component; `params`
    reuses a parameter count of the same backbone, adapter and quantisation."""
    method = spec.quantization.method
    params = params or parameter_bytes(spec, config, num_labels)
    t = spec.trainer
    seq = seq or spec.dataset.max_length
    act = 4 if precision == "fp32" else 2
    shapes = shapes_of(config)
    # k-bit preparation keeps norms in fp32, so the residual stream (hidden-wide tensors) is fp32
    hidden_bytes = 4 if method != "none" else act
    activations = activation_bytes(shapes, t.batch_size, seq, act, t.gradient_checkpointing, hidden_bytes)
    states = 2 if "8bit" in t.optimizer else OPTIMIZER_STATES.get(t.optimizer, 8)
    parts = {
        "weights": params.weights,
        "trainable weights (fp32)": params.trainable_bytes,
        "gradients": 4.0 * params.trainable,
        "optimizer states": float(states * params.trainable),
        "activations": activations,
    }
    if method != "none":
        widest = max(shapes.hidden * shapes.intermediate, shapes.hidden * shapes.hidden)
        parts["dequantised layer"] = 2.0 * widest  # one 4/8-bit weight unpacked at a time
    _shard(parts, spec.distributed)
    return MemoryEstimate(parts, params.total, params.trainable, t.batch_size * seq)


def _shard(parts: dict[str, float], distributed) -> None:
    """Per-GPU figures under FSDP: what it shards is divided by the processes sharing it
    (DDP keeps a full copy on every GPU)."""
    if distributed.strategy != "fsdp":
        return
    fsdp = distributed.fsdp
    group = distributed.processes_per_node * (1 if fsdp.sharding == "hybrid_shard" else distributed.nodes)
    sharded = {
        "full_shard": ("weights", "trainable weights (fp32)", "gradients", "optimizer states"),
        "hybrid_shard": ("weights", "trainable weights (fp32)", "gradients", "optimizer states"),
        "shard_grad_op": ("gradients", "optimizer states"),
        "no_shard": (),
    }[fsdp.sharding]
    for name in sharded:
        parts[name] /= group


def _quantised(name: str, module, keep: list[str]) -> bool:
    """bitsandbytes quantises the backbone's linear layers; embeddings, norms and kept modules stay."""
    return type(module).__name__ == "Linear" and not any(k in name.split(".") for k in keep)

"""The learning rate a spec gets when it names none: by adapter kind and backbone size.

Adapters on small backbones want far larger steps than on large ones (LoRA on a 22M-parameter
encoder around 1e-3, on a 2B decoder around 1e-4 to 2e-4), and kinds differ by an order of
magnitude at the same size (IA3 scales activations and wants ~10x LoRA's rate; full fine-tuning
~1/20). On the packaged MiniLM with mean pooling, LoRA at 2e-3 on the attention and MLP layers and
at 3e-3 on the attention alone collapsed to input-independent scores; 1e-3 did not, hence the
small-backbone row. One table, read by the builder (the rate trained with), the plan printed
before training ("0.001 (default for lora on a 22.3M-parameter encoder)") and lint's
learning-rate warning. Imports no torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from types import SimpleNamespace

SIZES = (("small", 2e8), ("base", 1.5e9), ("large", 2e10), ("huge", float("inf")))
"""Backbone size classes by parameter count (upper bounds)."""

TABLE: dict[str, tuple[float, float, float, float]] = {
    # kind: (small < 200M, base < 1.5B, large < 20B, huge)
    "lora": (1e-3, 5e-4, 2e-4, 1e-4),
    "adalora": (1e-3, 5e-4, 2e-4, 1e-4),
    "loha": (1e-3, 5e-4, 2e-4, 1e-4),
    "lokr": (1e-3, 5e-4, 2e-4, 1e-4),
    "ia3": (1e-2, 5e-3, 3e-3, 1e-3),
    "prompt_tuning": (3e-2, 2e-2, 1e-2, 5e-3),
    "none": (5e-5, 2e-5, 1e-5, 5e-6),
}
"""Default peak learning rate (AdamW, linear decay) per adapter kind and size class."""

FALLBACK_KIND = "lora"

ENCODER_TYPES = {
    "bert",
    "roberta",
    "xlm-roberta",
    "deberta",
    "deberta-v2",
    "distilbert",
    "electra",
    "albert",
    "mpnet",
    "modernbert",
    "camembert",
    "ernie",
}


@dataclass(frozen=True)
class LearningRate:
    value: float
    reason: str
    """`default for lora on a 23M-parameter encoder`, or `set in the spec`."""

    def line(self) -> str:
        return f"{self.value:g} ({self.reason})"


def size_class(parameters: float) -> int:
    return next(i for i, (_, bound) in enumerate(SIZES) if parameters < bound)


def default_learning_rate(kind: str, parameters: float | None, model_type: str | None = None) -> LearningRate:
    """The table's rate for `kind` on a backbone of `parameters` (None: unknown size, read as a
    large model, the cautious side)."""
    row = TABLE.get(kind, TABLE[FALLBACK_KIND])
    if parameters is None:
        return LearningRate(row[2], f"default for {kind}; backbone size unknown, taken as 1.5B-20B")
    role = "encoder" if model_type in ENCODER_TYPES else "decoder" if model_type else "backbone"
    return LearningRate(
        row[size_class(parameters)], f"default for {kind} on a {_count(parameters)}-parameter {role}"
    )


def _count(parameters: float) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if parameters >= scale:
            return f"{parameters / scale:.3g}{unit}"
    return f"{parameters:.0f}"


def estimated_parameters(config) -> float:
    """The backbone's parameter count from its config's shapes (embeddings, attention, MLP)."""
    from peftspec.plan.memory import shapes_of

    s = shapes_of(config)
    attention = 2 * s.hidden * s.hidden + 2 * s.hidden * s.kv_width
    mlp = (3 if s.gated else 2) * s.hidden * s.intermediate
    return float(s.vocab * s.hidden + s.layers * (attention + mlp))


def backbone_size(
    model: str, revision: str | None = None, quick: bool = False
) -> tuple[float | None, str | None]:
    """(parameters, model_type) of a backbone: from a local or packaged folder's config.json, the
    built-in family table, or (unless `quick`, which lint uses: no transformers import) the local
    Hugging Face cache. (None, None) when none of them knows it."""
    values = _local_config(model)
    if values is None:
        values = _family_values(model)
    if values is None and not quick:
        values = _cached_config(model, revision)
    if not values:
        return None, None
    try:
        return estimated_parameters(SimpleNamespace(**values)), values.get("model_type")
    except (AttributeError, TypeError, KeyError):
        return None, values.get("model_type")


def learning_rate_for(spec) -> LearningRate:
    """The rate a spec trains with: its own, or the table's for its adapter and backbone."""
    if spec.trainer.learning_rate is not None:
        return LearningRate(spec.trainer.learning_rate, "set in the spec")
    parameters, model_type = backbone_size(spec.backbone.model, spec.backbone.revision)
    return default_learning_rate(spec.adapter.kind, parameters, model_type)


def _local_config(model: str) -> dict | None:
    from peftspec.spec.packaged import PackagedModelError, model_source

    try:
        source = model_source(model)
    except PackagedModelError:
        return None
    path = os.path.join(source, "config.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _family_values(model: str) -> dict | None:
    from peftspec.plan.families import UnknownFamily, reference_values

    try:
        family, values = reference_values(model)
    except UnknownFamily:
        return None
    return {"model_type": family.model_type, **values}


def _cached_config(model: str, revision: str | None) -> dict | None:
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(model, revision=revision, local_files_only=True)
    except Exception:  # not cached, not a repo id, needs remote code: size unknown
        return None
    return config.to_dict()

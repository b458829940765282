"""A toy backbone of the spec's own architecture: the real config with its sizes shrunk, random
weights, and a tokenizer (the real one when it is on disk, else one trained on the spec's texts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from peftspec.check.toy_tokenizer import save_tokenizer, train_tokenizer
from peftspec.errors import UserError
from peftspec.plan.config import real_config
from peftspec.plan.families import family_for_type
from peftspec.plan.family import BYTE_LEVEL
from peftspec.spec.backbone import BackboneSpec
from peftspec.spec.packaged import model_source

TOY_SIZES = {"num_hidden_layers": 2, "hidden_size": 128, "intermediate_size": 256, "num_attention_heads": 4}
"""What every toy model has, whatever the real size, plus heads of 32 and 1, 2 or 4 KV heads: every
projection then has a multiple of 32 outputs, as bitsandbytes' 4-bit CPU kernel needs."""
HEAD_DIM = 32


class ToyError(UserError):
    """No toy model can be built for this backbone; the message says why and what to do."""

    title = "No toy backbone"


@dataclass
class Toy:
    folder: Path
    config_source: str
    """Where the architecture came from: a local folder, the HF cache, or the built-in table."""
    tokenizer_source: str
    architecture: str


def toy_tokenizer(backbone: BackboneSpec, config, texts: Sequence[str]):
    """(tokenizer, where it came from): the real one if it is on disk, else one trained on `texts`."""
    from transformers import AutoTokenizer

    source = model_source(backbone.tokenizer or backbone.model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            source,
            revision=backbone.revision,
            local_files_only=True,
            trust_remote_code=backbone.trust_remote_code,
        )
        return tokenizer, "the real tokenizer (found on disk)"
    except (OSError, ValueError, TypeError):
        pass
    family = family_of_backbone(backbone, config)
    specials = family.specials if family else {"eos": "</s>"}
    if family is None:
        tokenizer = train_tokenizer(BYTE_LEVEL, specials, None, texts)
        source = "a byte-level BPE tokenizer trained on the spec's texts (unknown family)"
    else:
        tokenizer = train_tokenizer(family.tokenizer_style, specials, family.template, texts)
        source = f"a {family.tokenizer_style} tokenizer in {family.name}'s style, trained on the spec's texts"
    tokenizer.toy_specials = specials
    return tokenizer, source


def family_of_backbone(backbone: BackboneSpec, config):
    """The table's family of the model id when its model type agrees, else the first of that type."""
    from peftspec.plan.families import UnknownFamily, family_of

    try:
        family = family_of(backbone.model)
        if family.model_type == config.model_type:
            return family
    except UnknownFamily:
        pass
    return family_for_type(config.model_type)


def shrink(config, tokenizer) -> None:
    """Toy sizes in place: 2 layers, hidden 128, 4 heads of 32, the tokenizer's vocabulary."""
    real_heads = getattr(config, "num_attention_heads", 4)
    layer_types = getattr(config, "layer_types", None)
    if layer_types:  # keep one layer of each kind (sliding and full attention) where there are two
        kinds = list(dict.fromkeys(layer_types))
        config.layer_types = (kinds + kinds)[: TOY_SIZES["num_hidden_layers"]]
    real_kv = getattr(config, "num_key_value_heads", None)
    for name, value in TOY_SIZES.items():
        if hasattr(config, name):
            setattr(config, name, value)
    if real_kv is not None:  # keep the real grouping: multi-head, multi-query or grouped-query
        config.num_key_value_heads = 4 if real_kv == real_heads else 1 if real_kv == 1 else 2
    if getattr(config, "head_dim", None) is not None:
        config.head_dim = HEAD_DIM
    if getattr(config, "query_pre_attn_scalar", None) is not None:
        config.query_pre_attn_scalar = HEAD_DIM
    config.vocab_size = len(tokenizer)
    for role in ("pad", "bos", "eos", "cls", "sep"):
        if hasattr(config, f"{role}_token_id"):
            setattr(config, f"{role}_token_id", getattr(tokenizer, f"{role}_token_id", None))


def build_toy(backbone: BackboneSpec, texts: Sequence[str], folder: Path, seed: int = 0) -> Toy:
    """Save a toy model of `backbone`'s architecture and its tokenizer under `folder`."""
    import torch
    from transformers import AutoModel

    config, config_source = real_config(backbone)
    tokenizer, tokenizer_source = toy_tokenizer(backbone, config, texts)
    shrink(config, tokenizer)
    dtype = getattr(config, "dtype", None) or "float32"
    torch.manual_seed(seed)
    try:
        model = AutoModel.from_config(config, trust_remote_code=backbone.trust_remote_code)
    except ValueError as exc:
        raise ToyError(f"transformers cannot build {config.model_type!r} models: {exc}") from None
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    model.to(dtype)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    specials = getattr(tokenizer, "toy_specials", None)
    if specials is None:
        tokenizer.save_pretrained(folder)
    else:
        save_tokenizer(tokenizer, folder, specials)
    return Toy(folder, config_source, tokenizer_source, type(model).__name__)

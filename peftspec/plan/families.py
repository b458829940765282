"""The built-in table of model families: real configs of reference models, no download needed.

`peftspec check` builds toy models of the same architecture from it, and `peftspec plan` estimates
memory from it, when a backbone's config is neither a local folder nor in the local HF cache.
A model id matches the first family whose pattern it contains; a few ids have exact entries.
Importing this module imports no transformers; `config_for` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

METASPACE, BYTE_LEVEL, WORDPIECE = "metaspace", "byte-level", "wordpiece"

BERT_SPECIALS = {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"}
ROBERTA_SPECIALS = {
    "bos": "<s>",
    "pad": "<pad>",
    "eos": "</s>",
    "unk": "<unk>",
    "cls": "<s>",
    "sep": "</s>",
    "mask": "<mask>",
}
LLAMA_SPECIALS = {"bos": "<s>", "eos": "</s>", "unk": "<unk>"}  # no pad token, as in the real ones


@dataclass(frozen=True)
class Family:
    """One architecture family: how to recognise its ids, and the real config of a reference model."""

    name: str
    model_type: str
    """transformers' `model_type`, which picks the model classes."""
    pattern: str
    """A regular expression searched in the lower-cased model id."""
    reference: str
    config: dict[str, Any]
    """The reference model's real config values (its `config.json`)."""
    tokenizer_style: str
    specials: dict[str, str]
    """The tokenizer's special tokens by role (pad, unk, bos, eos, cls, sep, mask); a role the real
    tokenizer lacks is absent here too (Llama and Mistral have no pad token)."""
    template: str | None = None
    """How a single text is wrapped in special tokens, e.g. `[CLS] $A [SEP]`."""
    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Other models of the family with their config values that differ from the reference."""


_LLAMA2 = {
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-5,
    "hidden_act": "silu",
    "torch_dtype": "float16",
}
_LLAMA3 = {
    "intermediate_size": 14336,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 8192,
    "rope_theta": 500000.0,
    "torch_dtype": "bfloat16",
}
_QWEN15_7B = {
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
_QWEN2_7B = {
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "vocab_size": 152064,
    "max_position_embeddings": 131072,
}

FAMILIES: list[Family] = [
    Family(
        "gemma2",
        "gemma2",
        r"gemma-?2",
        "google/gemma-2-2b",
        {
            "hidden_size": 2304,
            "intermediate_size": 9216,
            "num_hidden_layers": 26,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "head_dim": 256,
            "vocab_size": 256000,
            "max_position_embeddings": 8192,
            "sliding_window": 4096,
            "query_pre_attn_scalar": 256,
            "attn_logit_softcapping": 50.0,
            "final_logit_softcapping": 30.0,
            "hidden_activation": "gelu_pytorch_tanh",
            "torch_dtype": "float32",
        },
        METASPACE,
        {"pad": "<pad>", "eos": "<eos>", "bos": "<bos>", "unk": "<unk>"},
        "<bos> $A",
        {
            "google/gemma-2-9b": {
                "hidden_size": 3584,
                "intermediate_size": 14336,
                "num_hidden_layers": 42,
                "num_attention_heads": 16,
                "num_key_value_heads": 8,
            }
        },
    ),
    Family(
        "gemma",
        "gemma",
        r"gemma",
        "google/gemma-1.1-2b-it",
        {
            "hidden_size": 2048,
            "intermediate_size": 16384,
            "num_hidden_layers": 18,
            "num_attention_heads": 8,
            "num_key_value_heads": 1,
            "head_dim": 256,
            "vocab_size": 256000,
            "max_position_embeddings": 8192,
            "rms_norm_eps": 1e-6,
            "hidden_act": "gelu_pytorch_tanh",
            "hidden_activation": "gelu_pytorch_tanh",
            "torch_dtype": "bfloat16",
        },
        METASPACE,
        {"pad": "<pad>", "eos": "<eos>", "bos": "<bos>", "unk": "<unk>"},
        "<bos> $A",
        {
            "google/gemma-7b": {
                "hidden_size": 3072,
                "intermediate_size": 24576,
                "num_hidden_layers": 28,
                "num_attention_heads": 16,
                "num_key_value_heads": 16,
            },
            "google/gemma-1.1-7b-it": {
                "hidden_size": 3072,
                "intermediate_size": 24576,
                "num_hidden_layers": 28,
                "num_attention_heads": 16,
                "num_key_value_heads": 16,
            },
        },
    ),
    Family(
        "qwen2",
        "qwen2",
        r"qwen",
        "Qwen/Qwen1.5-7B",
        _QWEN15_7B,
        BYTE_LEVEL,
        {"eos": "<|endoftext|>", "pad": "<|endoftext|>"},
        None,
        {
            "Alibaba-NLP/gte-Qwen1.5-7B-instruct": {"vocab_size": 151646},
            "Qwen/Qwen2-7B": _QWEN2_7B,
            "Qwen/Qwen2.5-7B": _QWEN2_7B,
            "Qwen/Qwen2.5-0.5B": {
                "hidden_size": 896,
                "intermediate_size": 4864,
                "num_hidden_layers": 24,
                "num_attention_heads": 14,
                "num_key_value_heads": 2,
                "tie_word_embeddings": True,
            },
        },
    ),
    Family(
        "mistral",
        "mistral",
        r"mistral",
        "mistralai/Mistral-7B-v0.1",
        {
            **_LLAMA2,
            "intermediate_size": 14336,
            "num_key_value_heads": 8,
            "max_position_embeddings": 32768,
            "sliding_window": 4096,
            "torch_dtype": "bfloat16",
        },
        METASPACE,
        LLAMA_SPECIALS,
        "<s> $A",
    ),
    Family(
        "llama3",
        "llama",
        r"llama-?3",
        "meta-llama/Meta-Llama-3-8B",
        {**_LLAMA2, **_LLAMA3},
        BYTE_LEVEL,
        {"bos": "<|begin_of_text|>", "eos": "<|end_of_text|>"},  # no unk, no pad
        "<|begin_of_text|> $A",
        {
            "meta-llama/Meta-Llama-3-8B-Instruct": {},
            "meta-llama/Llama-3.1-8B": {"max_position_embeddings": 131072},
            "meta-llama/Llama-3.2-1B": {
                "hidden_size": 2048,
                "intermediate_size": 8192,
                "num_hidden_layers": 16,
                "num_key_value_heads": 8,
                "max_position_embeddings": 131072,
                "tie_word_embeddings": True,
            },
        },
    ),
    Family(
        "llama",
        "llama",
        r"llama",
        "meta-llama/Llama-2-7b-hf",
        _LLAMA2,
        METASPACE,
        LLAMA_SPECIALS,
        "<s> $A",
        {
            "meta-llama/Llama-2-13b-hf": {
                "hidden_size": 5120,
                "intermediate_size": 13824,
                "num_hidden_layers": 40,
                "num_attention_heads": 40,
                "num_key_value_heads": 40,
            }
        },
    ),
    Family(
        "phi3",
        "phi3",
        r"phi-?3",
        "microsoft/Phi-3-mini-4k-instruct",
        {
            "hidden_size": 3072,
            "intermediate_size": 8192,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 32,
            "vocab_size": 32064,
            "max_position_embeddings": 4096,
            "rms_norm_eps": 1e-5,
            "torch_dtype": "bfloat16",
        },
        METASPACE,
        {"bos": "<s>", "eos": "<|endoftext|>", "unk": "<unk>", "pad": "<|endoftext|>"},
        "<s> $A",
    ),
    Family(
        "phi",
        "phi",
        r"phi",
        "microsoft/phi-2",
        {
            "hidden_size": 2560,
            "intermediate_size": 10240,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 32,
            "vocab_size": 51200,
            "max_position_embeddings": 2048,
            "partial_rotary_factor": 0.4,
            "hidden_act": "gelu_new",
            "torch_dtype": "float16",
        },
        BYTE_LEVEL,
        {"bos": "<|endoftext|>", "eos": "<|endoftext|>", "unk": "<|endoftext|>"},
    ),
    Family(
        "modernbert",
        "modernbert",
        r"modernbert",
        "answerdotai/ModernBERT-base",
        {
            "hidden_size": 768,
            "intermediate_size": 1152,
            "num_hidden_layers": 22,
            "num_attention_heads": 12,
            "vocab_size": 50368,
            "max_position_embeddings": 8192,
            "global_attn_every_n_layers": 3,
            "local_attention": 128,
            "torch_dtype": "float32",
        },
        BYTE_LEVEL,
        BERT_SPECIALS,
        "[CLS] $A [SEP]",
    ),
    Family(
        "deberta-v2",
        "deberta-v2",
        r"deberta",
        "microsoft/deberta-v3-base",
        {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "vocab_size": 128100,
            "max_position_embeddings": 512,
            "relative_attention": True,
            "position_buckets": 256,
            "norm_rel_ebd": "layer_norm",
            "share_att_key": True,
            "pos_att_type": ["p2c", "c2p"],
            "max_relative_positions": -1,
            "position_biased_input": False,
            "type_vocab_size": 0,
            "layer_norm_eps": 1e-7,
            "torch_dtype": "float32",
        },
        METASPACE,
        BERT_SPECIALS,
        "[CLS] $A [SEP]",
    ),
    Family(
        "roberta",
        "roberta",
        r"roberta",
        "FacebookAI/roberta-base",
        {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "vocab_size": 50265,
            "max_position_embeddings": 514,
            "type_vocab_size": 1,
            "layer_norm_eps": 1e-5,
            "torch_dtype": "float32",
        },
        BYTE_LEVEL,
        ROBERTA_SPECIALS,
        "<s> $A </s>",
    ),
    Family(
        "bert",
        "bert",
        r"bert|minilm",
        "google-bert/bert-base-uncased",
        {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "vocab_size": 30522,
            "max_position_embeddings": 512,
            "torch_dtype": "float32",
        },
        WORDPIECE,
        BERT_SPECIALS,
        "[CLS] $A [SEP]",
        {
            "sentence-transformers/all-MiniLM-L6-v2": {
                "hidden_size": 384,
                "intermediate_size": 1536,
                "num_hidden_layers": 6,
            }
        },
    ),
]


class UnknownFamily(LookupError):
    """No built-in family matches a model id; the message lists the families there are."""


def family_of(model_id: str) -> Family:
    """The family whose exact ids or pattern match `model_id`; raises `UnknownFamily`."""
    lowered = model_id.lower()
    for family in FAMILIES:
        if model_id in family.known or model_id == family.reference:
            return family
    for family in FAMILIES:
        if re.search(family.pattern, lowered):
            return family
    names = ", ".join(f.name for f in FAMILIES)
    raise UnknownFamily(
        f"{model_id!r} is not in the built-in family table ({names}) and its config is neither a local "
        "folder nor in the local Hugging Face cache; download it once (`huggingface-cli download "
        f"{model_id} config.json`) or point backbone.model at a local folder"
    )


def reference_values(model_id: str) -> tuple[Family, dict[str, Any]]:
    """The family of `model_id` and its config values (exact ones where the id is known)."""
    family = family_of(model_id)
    return family, {**family.config, **family.known.get(model_id, {})}


def config_for(model_id: str):
    """A transformers config with the real dimensions of `model_id` from the table."""
    from transformers import AutoConfig

    family, values = reference_values(model_id)
    dtype = values.pop("torch_dtype", "float32")
    config = AutoConfig.for_model(family.model_type, **values)
    config.dtype = dtype
    return config


def family_for_type(model_type: str) -> Family | None:
    """The family of a transformers `model_type` (for configs read from disk), if the table has it."""
    return next((f for f in FAMILIES if f.model_type == model_type), None)


def families_markdown() -> str:
    """The table for the docs: family, matching ids, reference model, exact ids."""
    lines = ["| family | ids containing | reference config | also known exactly |", "|---|---|---|---|"]
    for f in FAMILIES:
        known = ", ".join(f"`{k}`" for k in f.known) or "-"
        lines.append(f"| {f.name} | `{f.pattern}` | `{f.reference}` | {known} |")
    return "\n".join(lines)

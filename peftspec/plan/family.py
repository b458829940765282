"""One model family: how its ids are recognised, its reference config, its tokenizer's style."""

from __future__ import annotations

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

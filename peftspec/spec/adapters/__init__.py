"""`[adapter]`: a closed union on `kind`, one module per kind, each implementing `AdapterSpec`.

Adding a kind: one module here (its fields, rules, contract methods and `to_peft_config`), one
entry in `KINDS`, its docs regenerated, an example spec. The union, `ADAPTERS` and the tag tables
are made from `KINDS`; the every-kind test picks the new kind up by itself.
"""

from __future__ import annotations

from peftspec.spec.adapters.adalora import AdaLoraAdapter
from peftspec.spec.adapters.base import AdapterSpec
from peftspec.spec.adapters.common import PeftContext
from peftspec.spec.adapters.ia3 import IA3Adapter
from peftspec.spec.adapters.loha import LohaAdapter
from peftspec.spec.adapters.lokr import LokrAdapter
from peftspec.spec.adapters.lora import LoraAdapter
from peftspec.spec.adapters.none import NoAdapter
from peftspec.spec.adapters.prompt_tuning import PromptTuningAdapter
from peftspec.spec.base import tagged_union

KINDS: list[type[AdapterSpec]] = [
    LoraAdapter,
    IA3Adapter,
    AdaLoraAdapter,
    LohaAdapter,
    LokrAdapter,
    PromptTuningAdapter,
    NoAdapter,
]

ADAPTERS: dict[str, type[AdapterSpec]] = {kind.kind_name(): kind for kind in KINDS}
"""Each adapter class by its `kind`."""

Adapter = tagged_union("kind", "lora", ADAPTERS)

__all__ = [
    "ADAPTERS",
    "KINDS",
    "AdaLoraAdapter",
    "Adapter",
    "AdapterSpec",
    "IA3Adapter",
    "LohaAdapter",
    "LokrAdapter",
    "LoraAdapter",
    "NoAdapter",
    "PeftContext",
    "PromptTuningAdapter",
]

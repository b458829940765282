"""`[adapter]`: a closed union on `kind`, one module per kind.

Adding a kind: one module here with its fields, rules and `to_peft_config`; one entry in
`ADAPTERS`; one example spec; one test row.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Discriminator, Tag

from peftspec.spec.adapters.adalora import AdaLoraAdapter
from peftspec.spec.adapters.common import PeftContext
from peftspec.spec.adapters.ia3 import IA3Adapter
from peftspec.spec.adapters.loha import LohaAdapter
from peftspec.spec.adapters.lokr import LokrAdapter
from peftspec.spec.adapters.lora import LoraAdapter
from peftspec.spec.adapters.none import NoAdapter
from peftspec.spec.adapters.prompt_tuning import PromptTuningAdapter
from peftspec.spec.base import tag_of

ADAPTERS = {
    "lora": LoraAdapter,
    "ia3": IA3Adapter,
    "adalora": AdaLoraAdapter,
    "loha": LohaAdapter,
    "lokr": LokrAdapter,
    "prompt_tuning": PromptTuningAdapter,
    "none": NoAdapter,
}


Adapter = Annotated[
    Annotated[LoraAdapter, Tag("lora")]
    | Annotated[IA3Adapter, Tag("ia3")]
    | Annotated[AdaLoraAdapter, Tag("adalora")]
    | Annotated[LohaAdapter, Tag("loha")]
    | Annotated[LokrAdapter, Tag("lokr")]
    | Annotated[PromptTuningAdapter, Tag("prompt_tuning")]
    | Annotated[NoAdapter, Tag("none")],
    Discriminator(tag_of("kind", "lora")),
]

__all__ = [
    "ADAPTERS",
    "AdaLoraAdapter",
    "Adapter",
    "IA3Adapter",
    "LohaAdapter",
    "LokrAdapter",
    "LoraAdapter",
    "NoAdapter",
    "PeftContext",
    "PromptTuningAdapter",
]

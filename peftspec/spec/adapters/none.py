"""`kind = "none"`: full fine-tuning, no adapter."""

from __future__ import annotations

from typing import Literal

from peftspec.spec.adapters.base import AdapterSpec
from peftspec.spec.adapters.common import PeftContext


class NoAdapter(AdapterSpec):
    """Full fine-tuning: every backbone weight is trained. Needs the most memory; no quantisation."""

    kind: Literal["none"]
    """Adapter kind."""
    trains_backbone = True

    def to_peft_config(self, ctx: PeftContext) -> None:
        return None

"""`kind = "loha"`: low-rank Hadamard product updates (from LyCORIS)."""

from __future__ import annotations

from typing import Literal

from peftspec.spec.adapters.lycoris import LycorisAdapter


class LohaAdapter(LycorisAdapter):
    """LoHa: the update is the Hadamard product of two low-rank products; more expressive per
    parameter than LoRA."""

    kind: Literal["loha"]
    """Adapter kind."""

    def peft_class(self) -> type:
        from peft import LoHaConfig

        return LoHaConfig

"""`kind = "lokr"`: Kronecker-product updates (from LyCORIS)."""

from __future__ import annotations

from typing import Any, Literal

from peftspec.spec.adapters.lycoris import LycorisAdapter


class LokrAdapter(LycorisAdapter):
    """LoKr: the update is a Kronecker product of a small matrix and a low-rank one."""

    kind: Literal["lokr"]
    """Adapter kind."""
    decompose_both: bool = False
    """Also factor the left Kronecker matrix into low rank (fewer parameters)."""
    decompose_factor: int = -1
    """Kronecker factor size; -1 = as close to a square root of the dimension as possible."""

    def peft_class(self) -> type:
        from peft import LoKrConfig

        return LoKrConfig

    def extra_arguments(self) -> dict[str, Any]:
        return {"decompose_both": self.decompose_both, "decompose_factor": self.decompose_factor}

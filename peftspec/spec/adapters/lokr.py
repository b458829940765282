"""`kind = "lokr"`: Kronecker-product updates (from LyCORIS)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from peftspec.spec.adapters.base import AdapterSpec, WrapsModules
from peftspec.spec.adapters.common import PeftContext, TargetModules, task_type


class LokrAdapter(WrapsModules, AdapterSpec):
    """LoKr: the update is a Kronecker product of a small matrix and a low-rank one."""

    kind: Literal["lokr"]
    """Adapter kind."""
    r: int = Field(default=8, ge=1)
    """Rank of the low-rank factor. Higher = more capacity and more memory."""
    alpha: float = Field(default=8.0, gt=0)
    """Scale of the update."""
    rank_dropout: float = Field(default=0.0, ge=0, lt=1)
    """Dropout on the rank dimension during training."""
    module_dropout: float = Field(default=0.0, ge=0, lt=1)
    """Probability of skipping a whole adapted module during a training step."""
    decompose_both: bool = False
    """Also factor the left Kronecker matrix into low rank (fewer parameters)."""
    decompose_factor: int = -1
    """Kronecker factor size; -1 = as close to a square root of the dimension as possible."""
    target_modules: TargetModules | None = None
    """Modules to wrap, by name suffix; unset = peft's default for the architecture."""
    modules_to_save: list[str] | None = None
    """Extra modules trained in full and saved with the adapter; the classification head is
    always included."""

    def rank(self) -> int | None:
        return self.r

    def to_peft_config(self, ctx: PeftContext):
        from peft import LoKrConfig

        return LoKrConfig(
            task_type=task_type(),
            r=self.r,
            alpha=self.alpha,
            rank_dropout=self.rank_dropout,
            module_dropout=self.module_dropout,
            decompose_both=self.decompose_both,
            decompose_factor=self.decompose_factor,
            target_modules=self.target_modules,
            modules_to_save=self.modules_to_save,
        )

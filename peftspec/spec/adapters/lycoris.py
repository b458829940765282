"""What LoHa and LoKr (the LyCORIS kinds) share: rank, scale, the two dropouts, module lists."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from peftspec.spec.adapters.base import AdapterSpec, WrapsModules
from peftspec.spec.adapters.common import PeftContext, TargetModules, task_type


class LycorisAdapter(WrapsModules, AdapterSpec):
    """Base of `loha` and `lokr`; each declares `kind` and its own extra fields."""

    kind: str
    """Adapter kind."""
    r: int = Field(default=8, ge=1)
    """Rank of the low-rank factors. Higher = more capacity and more memory."""
    alpha: float = Field(default=8.0, gt=0)
    """Scale of the update."""
    rank_dropout: float = Field(default=0.0, ge=0, lt=1)
    """Dropout on the rank dimension during training."""
    module_dropout: float = Field(default=0.0, ge=0, lt=1)
    """Probability of skipping a whole adapted module during a training step."""
    target_modules: TargetModules | None = None
    """Modules to wrap, by name suffix; unset = peft's default for the architecture."""
    modules_to_save: list[str] | None = None
    """Extra modules trained in full and saved with the adapter; the classification head is
    always included."""

    def rank(self) -> int | None:
        return self.r

    def peft_class(self) -> type:
        raise NotImplementedError

    def extra_arguments(self) -> dict[str, Any]:
        """The kind's own arguments of its peft config."""
        return {}

    def to_peft_config(self, ctx: PeftContext):
        return self.peft_class()(
            task_type=task_type(),
            r=self.r,
            alpha=self.alpha,
            rank_dropout=self.rank_dropout,
            module_dropout=self.module_dropout,
            target_modules=self.target_modules,
            modules_to_save=self.modules_to_save,
            **self.extra_arguments(),
        )

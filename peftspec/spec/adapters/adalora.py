"""`kind = "adalora"`: LoRA whose rank budget is reallocated between layers during training."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from peftspec.spec.adapters.base import AdapterSpec
from peftspec.spec.adapters.common import PeftContext, TargetModules, task_type
from peftspec.spec.base import Rules


class AdaLoraAdapter(AdapterSpec):
    """AdaLoRA: start every layer at `init_r` and prune to an average of `target_r`."""

    kind: Literal["adalora"]
    """Adapter kind."""
    names_modules = True
    init_r: int = Field(default=12, ge=1)
    """Starting rank of every update."""
    target_r: int = Field(default=8, ge=1)
    """Average rank after pruning; must not exceed `init_r`."""
    alpha: float = Field(default=32.0, gt=0)
    """Scale of the update."""
    dropout: float = Field(default=0.05, ge=0, lt=1)
    """Dropout on the adapter's input."""
    target_modules: TargetModules | None = None
    """Modules to wrap, by name suffix; unset = peft's default for the architecture."""
    tinit: int = Field(default=0, ge=0)
    """Steps of warm-up before rank pruning starts."""
    tfinal: int = Field(default=0, ge=0)
    """Steps at the end with the final ranks fixed."""
    delta_t: int = Field(default=1, ge=1)
    """Steps between two budget reallocations."""
    beta1: float = Field(default=0.85, gt=0, lt=1)
    """EMA factor of the importance sensitivity."""
    beta2: float = Field(default=0.85, gt=0, lt=1)
    """EMA factor of the importance uncertainty."""
    orth_reg_weight: float = Field(default=0.5, ge=0)
    """Weight of the orthogonality regulariser."""

    @model_validator(mode="after")
    def _rules(self) -> AdaLoraAdapter:
        rules = Rules()
        if self.target_r > self.init_r:
            rules.fail("target_r", f"target_r ({self.target_r}) must not exceed init_r ({self.init_r})")
        rules.raise_any()
        return self

    def targets(self):
        return self.target_modules

    def rank(self) -> int | None:
        return self.target_r

    def to_peft_config(self, ctx: PeftContext):
        from peft import AdaLoraConfig

        return AdaLoraConfig(
            task_type=task_type(),
            init_r=self.init_r,
            target_r=self.target_r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            tinit=self.tinit,
            tfinal=self.tfinal,
            deltaT=self.delta_t,
            beta1=self.beta1,
            beta2=self.beta2,
            orth_reg_weight=self.orth_reg_weight,
            total_step=ctx.total_steps,
        )

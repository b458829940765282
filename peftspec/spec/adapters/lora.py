"""`kind = "lora"`: low-rank updates (LoRA, DoRA, rsLoRA). With 4-bit quantisation this is QLoRA."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from peftspec.spec.adapters.base import AdapterSpec, WrapsModules
from peftspec.spec.adapters.common import PeftContext, TargetModules, task_type


class LoraAdapter(WrapsModules, AdapterSpec):
    """LoRA: train a low-rank update `B @ A` beside each target weight; the backbone stays frozen."""

    kind: Literal["lora"] = "lora"
    """Adapter kind."""
    r: int = Field(default=8, ge=1)
    """Rank of the update. Higher = more capacity and more memory; 8-64 is typical."""
    alpha: float = Field(default=16.0, gt=0)
    """Scale of the update (`alpha / r`, or `alpha / sqrt(r)` with rsLoRA); usually 2 x r."""
    dropout: float = Field(default=0.05, ge=0, lt=1)
    """Dropout on the adapter's input; regularises small datasets."""
    target_modules: TargetModules | None = None
    """Modules to wrap, by name suffix (`["q_proj", "v_proj"]`), or `"all-linear"`;
    unset = peft's default for the architecture."""
    bias: Literal["none", "all", "lora_only"] = "none"
    """Which biases to train as well: none, every bias, or only those of wrapped modules."""
    use_dora: bool = False
    """DoRA: learn magnitude and direction separately. Better at low rank, ~20% slower."""
    use_rslora: bool = False
    """rsLoRA: scale by `alpha / sqrt(r)`, which keeps high ranks stable."""
    modules_to_save: list[str] | None = None
    """Extra modules trained in full and saved with the adapter; the classification head is
    always included."""
    layers_to_transform: list[int] | None = None
    """Only wrap these layer indices; unset = every layer."""

    def rank(self) -> int | None:
        return self.r

    def to_peft_config(self, ctx: PeftContext):
        from peft import LoraConfig

        return LoraConfig(
            task_type=task_type(),
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            bias=self.bias,
            use_dora=self.use_dora,
            use_rslora=self.use_rslora,
            modules_to_save=self.modules_to_save,
            layers_to_transform=self.layers_to_transform,
        )

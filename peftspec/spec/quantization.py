"""`[quantization]`: load the frozen backbone in 4 or 8 bits with bitsandbytes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from peftspec.spec.base import SpecModel, tagged_union


class NoQuantization(SpecModel):
    """The backbone keeps the dtype of `backbone.dtype`."""

    method: Literal["none"] = "none"
    """Quantisation method: `none`, `bnb-4bit` (QLoRA) or `bnb-8bit`."""


class Bnb4bit(SpecModel):
    """4-bit weights (QLoRA): a 7B backbone fits in ~5 GB; an adapter is required to train."""

    method: Literal["bnb-4bit"]
    """Quantisation method."""
    quant_type: Literal["nf4", "fp4"] = "nf4"
    """4-bit data type; NF4 suits normally distributed weights and is the QLoRA default."""
    double_quant: bool = True
    """Also quantise the quantisation constants: saves ~0.4 bits per weight."""
    compute_dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    """Dtype of the matmuls; `auto` = the trainer's precision (bf16 -> bfloat16, fp16 -> float16)."""
    storage_dtype: Literal["uint8", "bfloat16", "float16", "float32"] = "uint8"
    """Dtype that packs the 4-bit weights; set it to the compute dtype for FSDP."""
    skip_modules: list[str] | None = None
    """More modules to leave unquantised; the classification head and the adapter's
    `modules_to_save` (trained in full) are never quantised."""

    def to_bnb_config(self, compute_dtype: str, skip_modules: list[str]):
        import torch
        from transformers import BitsAndBytesConfig

        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=self.quant_type,
            bnb_4bit_use_double_quant=self.double_quant,
            bnb_4bit_compute_dtype=getattr(torch, compute_dtype),
            bnb_4bit_quant_storage=getattr(torch, self.storage_dtype),
            llm_int8_skip_modules=skip_modules,
        )


class Bnb8bit(SpecModel):
    """8-bit weights (LLM.int8): half the memory of bf16, outliers kept in 16 bits."""

    method: Literal["bnb-8bit"]
    """Quantisation method."""
    threshold: float = Field(default=6.0, gt=0)
    """Outlier threshold: activations above it are computed in 16 bits."""
    skip_modules: list[str] | None = None
    """More modules to leave unquantised; the classification head and the adapter's
    `modules_to_save` (trained in full) are never quantised."""

    def to_bnb_config(self, compute_dtype: str, skip_modules: list[str]):
        from transformers import BitsAndBytesConfig

        return BitsAndBytesConfig(
            load_in_8bit=True,
            llm_int8_threshold=self.threshold,
            llm_int8_skip_modules=skip_modules,
        )


Quantization = tagged_union(
    "method", "none", {"none": NoQuantization, "bnb-4bit": Bnb4bit, "bnb-8bit": Bnb8bit}
)

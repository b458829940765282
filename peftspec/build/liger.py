"""`trainer.liger_kernels`: Liger's Triton kernels for the backbone's norms, rotary embedding and
gated MLP (https://github.com/linkedin/Liger-Kernel), fused where eager PyTorch runs several small
kernels. Opt-in, CUDA only, and only where `liger-kernel` is installed (`peftspec[liger]`).

Liger patches a model in place, per architecture (`model_type`): its RMSNorm, RoPE and SwiGLU or
GeGLU replace the backbone's, and the adapter layers inside them keep working (Liger's MLP calls
the same, possibly adapted, projections). Its language-model losses (fused linear cross-entropy,
which would replace the model's forward) are never applied: a classifier's loss is the head's.
"""

from __future__ import annotations

import inspect

from peftspec.build.model import ModelError

KERNELS = ("rms_norm", "rope", "swiglu", "geglu", "layer_norm")
"""The keyword switches of Liger's apply functions that name a kernel for the backbone's blocks."""
LOSSES = ("cross_entropy", "fused_linear_cross_entropy")
"""Switches for language-model losses: always off for classification."""


def apply_liger_kernels(model, on_gpu: bool) -> str:
    """Patch `model` (a PEFT model or a plain one) with Liger's kernels; the plan's line saying what
    runs. On a machine without a CUDA GPU nothing changes and the line says so (Triton kernels
    need one; `peftspec check` runs GPU specs on a CPU)."""
    if not on_gpu:
        return "off: Liger kernels (no CUDA GPU here)"
    try:
        from liger_kernel.transformers.monkey_patch import MODEL_TYPE_TO_APPLY_LIGER_FN
    except ImportError:
        raise ModelError(
            "trainer.liger_kernels = true, but liger-kernel is not installed",
            hint="pip install 'peftspec[liger]', or set trainer.liger_kernels = false",
        ) from None
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    model_type = getattr(base.config, "model_type", None)
    apply = MODEL_TYPE_TO_APPLY_LIGER_FN.get(model_type)
    if apply is None:
        covered = ", ".join(sorted(MODEL_TYPE_TO_APPLY_LIGER_FN))
        raise ModelError(
            f"Liger has no kernels for model type {model_type!r} (it covers: {covered})",
            hint="set trainer.liger_kernels = false for this backbone",
        )
    switches = inspect.signature(apply).parameters
    apply(model=base, **{name: False for name in LOSSES if name in switches})
    applied = [k for k in KERNELS if k in switches and switches[k].default is True]
    return f"Liger kernels ({', '.join(applied)}) on {model_type}"

"""`trainer.liger_kernels`: off with a note on a CPU, an install hint when liger-kernel is missing,
Liger's own per-architecture patch applied to the backbone without its language-model losses, a
refusal for architectures Liger does not cover, and (on a CUDA GPU with liger-kernel) the issue's
numerical check against the eager model."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest

from tests.helpers.specs import tiny_lora_spec
from tests.helpers.tiny import EMOTIONS, make_backbone
from tests.test_speed_levers import assert_numerically_equal, fixed_batch, forward_backward


@pytest.fixture(scope="module")
def qwen2(tmp_path_factory) -> Path:
    return make_backbone("qwen2", tmp_path_factory.mktemp("liger") / "qwen2")


def fake_liger(monkeypatch, calls: list) -> None:
    """A stand-in for liger-kernel's monkey_patch module with Liger's Qwen2 signature."""

    def apply_liger_kernel_to_qwen2(
        rope=True,
        cross_entropy=False,
        fused_linear_cross_entropy=True,
        rms_norm=True,
        swiglu=True,
        model=None,
    ):
        calls.append({"model": model, "cross_entropy": cross_entropy, "flce": fused_linear_cross_entropy})

    patch = types.ModuleType("liger_kernel.transformers.monkey_patch")
    patch.MODEL_TYPE_TO_APPLY_LIGER_FN = {"qwen2": apply_liger_kernel_to_qwen2, "llama": None}
    for name in ("liger_kernel", "liger_kernel.transformers"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "liger_kernel.transformers.monkey_patch", patch)


def test_on_a_cpu_the_kernels_are_off_and_the_overview_says_so(qwen2):
    from peftspec.build.model import build_model
    from peftspec.build.overview import speedups

    spec = tiny_lora_spec(qwen2, "qwen2", liger_kernels=True)
    built = build_model(spec, EMOTIONS, "fp32")
    assert built.liger == "off: Liger kernels (no CUDA GPU here)"
    assert built.liger in speedups(spec.trainer, "fp32", "sdpa", False, liger=built.liger)
    assert build_model(tiny_lora_spec(qwen2, "qwen2"), EMOTIONS, "fp32").liger is None


def test_without_liger_kernel_installed_the_error_says_how_to_install_it(qwen2, monkeypatch):
    from peftspec.build.liger import apply_liger_kernels
    from peftspec.build.model import ModelError, build_model

    model = build_model(tiny_lora_spec(qwen2, "qwen2"), EMOTIONS, "fp32").model
    monkeypatch.setitem(sys.modules, "liger_kernel", None)
    with pytest.raises(ModelError) as caught:
        apply_liger_kernels(model, on_gpu=True)
    assert "liger-kernel is not installed" in str(caught.value)
    assert caught.value.hint.startswith("pip install 'peftspec[liger]'")


def test_liger_patches_the_backbone_without_its_language_model_losses(qwen2, monkeypatch):
    """Liger's fused linear cross-entropy would replace the model's forward with a causal LM's:
    it is switched off, and the backbone (not the PEFT wrapper) is what Liger patches."""
    from peftspec.build.liger import apply_liger_kernels
    from peftspec.build.model import build_model

    model = build_model(tiny_lora_spec(qwen2, "qwen2"), EMOTIONS, "fp32").model
    calls: list = []
    fake_liger(monkeypatch, calls)
    line = apply_liger_kernels(model, on_gpu=True)
    assert line == "Liger kernels (rms_norm, rope, swiglu) on qwen2"
    (call,) = calls
    assert call["model"] is model.get_base_model()
    assert call["cross_entropy"] is False and call["flce"] is False


def test_an_architecture_liger_does_not_cover_is_refused_with_what_it_covers(tmp_path, monkeypatch):
    from peftspec.build.liger import apply_liger_kernels
    from peftspec.build.model import ModelError, build_model

    bert = make_backbone("bert", tmp_path / "bert")
    model = build_model(tiny_lora_spec(bert, "bert"), EMOTIONS, "fp32").model
    fake_liger(monkeypatch, [])
    with pytest.raises(ModelError, match=r"no kernels for model type 'bert' \(it covers: llama, qwen2\)"):
        apply_liger_kernels(model, on_gpu=True)


@pytest.mark.parametrize("kind", ["qwen2", "gemma"])
def test_the_real_liger_patches_the_adapted_backbones_blocks_and_leaves_its_forward(
    tmp_path, kind, monkeypatch
):
    """With liger-kernel installed (the device kit carries it; patching needs no GPU): its norms
    and gated MLP run in the PEFT-wrapped backbone, and the classifier keeps its own forward."""
    pytest.importorskip("liger_kernel.transformers")
    from peftspec.build.liger import apply_liger_kernels
    from peftspec.build.model import build_model

    model = build_model(tiny_lora_spec(make_backbone(kind, tmp_path / kind), kind), EMOTIONS, "fp32").model
    modeling = importlib.import_module(f"transformers.models.{kind}.modeling_{kind}")
    for name, value in vars(modeling).items():  # Liger also swaps them for the process: put back
        monkeypatch.setattr(modeling, name, value)
    assert apply_liger_kernels(model, on_gpu=True).endswith(f" on {kind}")
    base = model.get_base_model()
    layer = base.model.layers[0]
    assert layer.input_layernorm.forward.__qualname__ == "LigerRMSNorm.forward"
    assert layer.mlp.forward.__qualname__.startswith("Liger")
    assert "forward" not in vars(base)  # not replaced by Liger's causal-LM forward


@pytest.mark.gpu
def test_liger_kernels_give_the_eager_models_logits_loss_and_gradients(qwen2):
    torch = pytest.importorskip("torch")
    pytest.importorskip("liger_kernel")
    if not torch.cuda.is_available():
        pytest.skip("Liger's kernels need a CUDA GPU")
    from peftspec.build.liger import apply_liger_kernels
    from peftspec.build.model import build_model

    torch.manual_seed(0)
    model = build_model(tiny_lora_spec(qwen2, "qwen2"), EMOTIONS, "fp32").model.cuda()
    batch = {k: v.cuda() for k, v in fixed_batch(vocab=150).items()}
    eager = forward_backward(model, batch)
    assert apply_liger_kernels(model, on_gpu=True).startswith("Liger kernels (")
    assert_numerically_equal(eager, forward_backward(model, batch))

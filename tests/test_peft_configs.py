"""Every adapter kind builds the real peft config, with the spec's values and task SEQ_CLS."""

from __future__ import annotations

import pytest

from peftspec.spec.adapters import ADAPTERS, PeftContext

peft = pytest.importorskip("peft")

CASES = {
    "lora": (
        {"r": 16, "alpha": 32.0, "target_modules": ["q_proj", "v_proj"], "use_rslora": True},
        "LoraConfig",
        {"r": 16, "lora_alpha": 32.0, "use_rslora": True},
    ),
    "ia3": (
        {"target_modules": ["k_proj", "down_proj"], "feedforward_modules": ["down_proj"]},
        "IA3Config",
        {"feedforward_modules": {"down_proj"}},
    ),
    "adalora": (
        {"init_r": 12, "target_r": 4, "target_modules": ["q_proj"]},
        "AdaLoraConfig",
        {"init_r": 12, "target_r": 4, "total_step": 100},
    ),
    "loha": ({"r": 4, "target_modules": ["q_proj"]}, "LoHaConfig", {"r": 4}),
    "lokr": ({"r": 4, "target_modules": ["q_proj"]}, "LoKrConfig", {"r": 4}),
    "prompt_tuning": ({"num_virtual_tokens": 10}, "PromptTuningConfig", {"num_virtual_tokens": 10}),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_adapter_builds_its_peft_config(kind):
    fields, cls_name, expected = CASES[kind]
    adapter = ADAPTERS[kind].model_validate({"kind": kind, **fields})
    config = adapter.to_peft_config(PeftContext(total_steps=100, tokenizer="tok"))
    assert type(config).__name__ == cls_name
    assert config.task_type == peft.TaskType.SEQ_CLS
    for key, value in expected.items():
        got = getattr(config, key)
        assert (set(got) if isinstance(value, set) else got) == value, key


def test_full_fine_tuning_has_no_peft_config():
    assert ADAPTERS["none"].model_validate({"kind": "none"}).to_peft_config(PeftContext()) is None


def test_every_kind_has_a_test_case():
    assert set(ADAPTERS) == set(CASES) | {"none"}


def test_bnb_4bit_config():
    torch = pytest.importorskip("torch")
    from peftspec.spec.quantization import Bnb4bit

    config = Bnb4bit.model_validate({"method": "bnb-4bit"}).to_bnb_config("bfloat16", ["score", "pooler"])
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert config.llm_int8_skip_modules == ["score", "pooler"]


def test_modules_trained_in_full_are_never_quantised(write_spec):
    from peftspec.build.model import unquantised_modules
    from peftspec.spec import load_spec
    from tests.conftest import MINIMAL

    text = MINIMAL + (
        '\n[adapter]\nmodules_to_save = ["pooler"]\n[quantization]\nmethod = "bnb-4bit"\n'
        'skip_modules = ["lm_head"]\n'
    )
    assert unquantised_modules(load_spec(write_spec(text))) == ["classifier", "lm_head", "pooler", "score"]


def test_skip_patterns_match_nested_modules():
    utils = pytest.importorskip("transformers.quantizers.quantizers_utils")
    if not hasattr(utils, "should_convert_module"):
        pytest.skip("this transformers matches skip modules by substring")
    should_convert_module = utils.should_convert_module
    from peftspec.build.model import skip_patterns

    patterns = skip_patterns(["pooler", "score"])
    assert not should_convert_module("bert.pooler.dense", patterns)
    assert not should_convert_module("score", patterns)
    assert should_convert_module("bert.encoder.layer.0.attention.self.query", patterns)
    assert should_convert_module("model.scores_proj", patterns)

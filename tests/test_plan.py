"""`peftspec plan`: the memory estimate against memory measured tensor by tensor on tiny models, and
the fit / no-fit advice on the reference specs (their real configs, from the built-in table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftspec.cli import main
from peftspec.plan.memory import estimate
from peftspec.spec.root import Spec
from tests.helpers.measure import measured_peak
from tests.helpers.tiny import make_backbone

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["a", "b", "c", "d"]
CASES = {
    "bert-lora": ("bert", {"kind": "lora", "target_modules": ["query", "value"]}),
    "bert-full": ("bert", {"kind": "none"}),
    "qwen2-lora": ("qwen2", {"kind": "lora", "target_modules": ["q_proj", "v_proj"]}),
    "gemma-ia3": (
        "gemma",
        {
            "kind": "ia3",
            "target_modules": ["k_proj", "v_proj", "down_proj"],
            "feedforward_modules": ["down_proj"],
        },
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimate_within_25_percent_of_measured_memory(case, tmp_path):
    from transformers import AutoConfig

    from peftspec.build.model import build_model

    kind, adapter = CASES[case]
    folder = make_backbone(kind, tmp_path / kind)
    spec = Spec.model_validate(
        {
            "name": case,
            "dataset": {
                "train": "x.csv",
                "text_column": "text",
                "max_length": 64,
                "labels": {"format": "one_hot", "columns": LABELS},
            },
            "backbone": {"model": str(folder)},
            "adapter": adapter,
            "trainer": {"batch_size": 16},
        }
    )
    built = build_model(spec, LABELS, "fp32")
    measured = sum(measured_peak(built.model, 16, 64, 200).values())
    estimated = estimate(spec, AutoConfig.from_pretrained(folder), len(LABELS), precision="fp32").total
    assert 0.75 <= estimated / measured <= 1.25, (estimated, measured)


def test_a_spec_that_does_not_fit_gets_the_change_that_makes_it_fit(capsys):
    assert main(["plan", str(ROOT / "specs" / "gemma_ia3.toml"), "--gpu-memory", "16GiB"]) == 1
    out = capsys.readouterr().out
    assert "does not fit in 16.0 GiB" in out
    assert "to make it fit:\n  trainer.gradient_checkpointing = true" in out
    assert main(["plan", str(ROOT / "specs" / "gemma_ia3.toml"), "--gpu-memory", "80GiB"]) == 0
    assert "fits in 80.0 GiB" in capsys.readouterr().out


def test_qlora_weights_are_packed_and_a_small_card_needs_small_batches(capsys):
    spec = str(ROOT / "specs" / "qwen_qlora.toml")
    assert main(["plan", spec, "--gpu-memory", "24GiB"]) == 0
    quantised = capsys.readouterr().out
    assert "fits in 24.0 GiB" in quantised and "7,114,674,176 parameters" in quantised
    assert main(["plan", str(ROOT / "specs" / "gemma_lora.toml"), "--gpu-memory", "6GiB"]) == 1
    out = capsys.readouterr().out  # 2.5B bf16 weights alone take 4.7 GiB: only batch 1 fits
    assert "to make it fit:\n  trainer.batch_size = 1 with gradient_accumulation_steps = 32" in out


def test_sizes_are_checked(capsys):
    assert main(["plan", str(ROOT / "specs" / "gemma_lora.toml"), "--gpu-memory", "lots"]) == 2
    assert "not a memory size" in capsys.readouterr().err


def test_fsdp_shards_weights_and_states_per_gpu_ddp_does_not():
    from peftspec.plan.families import config_for
    from peftspec.spec import load_spec

    path = ROOT / "specs" / "gemma_lora.toml"

    def parts(*overrides):
        spec = load_spec(path, overrides)
        return estimate(spec, config_for(spec.backbone.model), 11).parts

    one = parts()
    ddp = parts('distributed.strategy="ddp"', "distributed.processes_per_node=4")
    fsdp = parts('distributed.strategy="fsdp"', "distributed.processes_per_node=4")
    assert ddp == one  # a full replica on every GPU
    assert fsdp["weights"] == pytest.approx(one["weights"] / 4)
    assert fsdp["optimizer states"] == pytest.approx(one["optimizer states"] / 4)
    assert fsdp["activations"] == one["activations"]  # each GPU still holds its own batch's activations


def test_the_plan_says_its_figures_are_per_gpu_and_the_effective_batch_of_all(capsys):
    spec = str(ROOT / "specs" / "gemma_lora.toml")
    assert (
        main(
            ["plan", spec, "--set", 'distributed.strategy="ddp"', "--set", "distributed.processes_per_node=4"]
        )
        == 0
    )
    said = " ".join(capsys.readouterr().out.split())
    assert "per GPU, for each of 4 processes (ddp: a full copy on each); effective batch 128" in said
    assert main(["plan", spec]) == 0
    assert "per GPU" not in capsys.readouterr().out


def test_the_plan_as_json_carries_the_tables_figures_verdict_and_advice(capsys):
    import json

    spec = str(ROOT / "specs" / "gemma_lora.toml")
    assert main(["plan", spec, "--gpu-memory", "6GiB"]) == 1
    said = capsys.readouterr().out
    assert main(["plan", spec, "--gpu-memory", "6GiB", "--format", "json"]) == 1  # the same exit code
    plan = json.loads(capsys.readouterr().out)
    assert plan["fits"] is False and plan["budget_bytes"] == 6 * 1024**3
    memory = plan["memory_bytes"]
    assert memory["total"] == pytest.approx(sum(v for k, v in memory.items() if k != "total"))
    assert f"{memory['total'] / 1024**3:.2f}" in said  # the table's total, in bytes
    (advice,) = plan["advice"]
    assert advice["change"] == "trainer.batch_size = 1 with gradient_accumulation_steps = 32"
    assert advice["memory_bytes"] <= plan["usable_bytes"]
    assert (
        main(["plan", str(ROOT / "specs" / "qwen_qlora.toml"), "--gpu-memory", "24GiB", "--format", "json"])
        == 0
    )
    qlora = json.loads(capsys.readouterr().out)
    assert qlora["fits"] is True and qlora["parameters"]["total"] == 7_114_674_176
    assert qlora["micro_batch"]["chosen"] is False  # suggested: the spec keeps 8 x 8
    assert qlora["micro_batch"]["batch_size"] * qlora["micro_batch"]["gradient_accumulation_steps"] == 64
    assert main(["plan", spec, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["fits"] is None  # no card, no verdict

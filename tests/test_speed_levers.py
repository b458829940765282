"""The speed levers of issue 15, each against the path it replaces, on tiny models (CPU).

Each lever is held to the issue's numerical check: loss and logits on a fixed batch within 1e-2
relative, gradients at cosine > 0.999 (the optimizer and the evaluation loop are held to more).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers.specs import LORA_TARGETS as ADAPTERS
from tests.helpers.specs import tiny_lora_spec as tiny_spec
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows


@pytest.fixture(scope="module")
def backbones(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("levers")
    return {kind: make_backbone(kind, root / kind) for kind in ADAPTERS}


def fixed_batch(seed: int = 0, vocab: int = 150):
    """Rows of different lengths (padding inside the batch) and multi-label targets."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (6, 19), generator=generator)
    mask = torch.ones_like(ids)
    for row, length in enumerate([19, 11, 4, 19, 8, 15]):
        mask[row, length:] = 0
    labels = torch.randint(0, 2, (6, len(EMOTIONS)), generator=generator).float()
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def forward_backward(model, batch, mode: str = "eval"):
    """(logits, loss, the trainable parameters' gradients as one vector) in eval mode (no
    dropout), or in training mode (`mode="train"`, for models without dropout)."""
    import torch

    model.train(mode == "train")
    model.zero_grad(set_to_none=True)
    out = model(**batch)
    out.loss.backward()
    trained = [p for p in model.parameters() if p.requires_grad and p.grad is not None]
    grads = torch.cat([p.grad.flatten() for p in trained])
    return out.logits.detach(), out.loss.detach(), grads


def assert_numerically_equal(reference, candidate) -> None:
    """The issue's check: loss and logits within 1e-2 relative, gradients at cosine > 0.999."""
    import torch

    (logits_a, loss_a, grads_a), (logits_b, loss_b, grads_b) = reference, candidate
    assert torch.allclose(logits_b, logits_a, rtol=1e-2, atol=1e-2 * logits_a.abs().max().item())
    assert abs(loss_b.item() - loss_a.item()) <= 1e-2 * abs(loss_a.item())
    assert torch.nn.functional.cosine_similarity(grads_a, grads_b, dim=0).item() > 0.999


# fused AdamW --------------------------------------------------------------------------------------


def test_fused_adamw_is_the_default_and_the_trainer_builds_it(backbones, tmp_path):
    from transformers import Trainer

    from peftspec.build.model import build_model
    from peftspec.build.training_args import build_training_arguments

    spec = tiny_spec(backbones["bert"], "bert", eval_strategy="no", learning_rate=1e-3)
    assert spec.trainer.optimizer == "adamw_torch_fused"
    built = build_model(spec, EMOTIONS, "fp32")
    args = build_training_arguments(spec.trainer, output_dir=tmp_path, precision="fp32", use_cpu=True)
    optimizer = Trainer(model=built.model, args=args).create_optimizer()
    assert optimizer.defaults["fused"] is True and not optimizer.defaults.get("foreach")


def test_fused_adamw_takes_the_same_steps_as_the_unfused_one(backbones):
    """Five AdamW steps on the adapter's parameters with the same gradients: the same weights."""
    import torch

    from peftspec.build.model import build_model

    spec = tiny_spec(backbones["qwen2"], "qwen2")
    trained = {}
    for fused in (False, True):
        torch.manual_seed(0)
        model = build_model(spec, EMOTIONS, "fp32").model
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, fused=fused, foreach=not fused)
        for step in range(5):
            forward_backward(model, fixed_batch(step))
            optimizer.step()
        trained[fused] = torch.cat([p.detach().flatten() for p in params])
    assert torch.allclose(trained[True], trained[False], rtol=1e-5, atol=1e-7)


# in-training evaluation -------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["plain-loss", "class-weights"])
def test_in_training_evaluation_gives_the_trainer_loops_metrics(backbones, tmp_path, weighted, monkeypatch):
    """peftspec's evaluation loop (length-sorted, inference mode) against the Trainer's own loop on
    the same model and rows: the same loss and the same metrics."""
    import torch
    from transformers import Trainer

    from peftspec.build.class_weights import weighted_loss
    from peftspec.build.data import Split
    from peftspec.build.model import build_model
    from peftspec.build.predict import predict
    from peftspec.build.tokenize import collator, to_dataset
    from peftspec.build.training_args import build_training_arguments
    from peftspec.metrics.computer import MetricComputer
    from peftspec.train.evaluation import PeftspecTrainer

    spec = tiny_spec(backbones["bert"], "bert", eval_batch_size=7, learning_rate=1e-3)
    torch.manual_seed(0)
    built = build_model(spec, EMOTIONS, "fp32")
    rows = synthetic_rows(45, seed=3)
    labels = np.array([[row[name] for name in EMOTIONS] for row in rows])
    split = Split("validation", [r["text"] for r in rows], [str(i) for i in range(45)], labels)
    dataset = to_dataset(split, built.tokenizer, 32, "multi_label")
    args = build_training_arguments(spec.trainer, output_dir=tmp_path, precision="fp32", use_cpu=True)
    names = ["f1_macro", "f1_micro", "jaccard", "subset_accuracy"]
    common = {
        "model": built.model,
        "args": args,
        "data_collator": collator(built.tokenizer),
        "eval_dataset": dataset,
        "compute_metrics": MetricComputer(names, "multi_label", EMOTIONS),
        "compute_loss_func": weighted_loss([3.0] * len(EMOTIONS), "multi_label") if weighted else None,
    }
    import peftspec.train.evaluation as evaluation

    calls = []
    monkeypatch.setattr(evaluation, "predict", lambda *a, **k: calls.append(k) or predict(*a, **k))
    theirs = Trainer(**common).evaluate()
    ours = PeftspecTrainer(task="multi_label", precision="fp32", **common).evaluate()
    assert len(calls) == 1 and calls[0]["training"]  # peftspec's loop ran, not the Trainer's
    assert ours["eval_loss"] == pytest.approx(theirs["eval_loss"], rel=1e-5)
    for name in names:
        assert ours[f"eval_{name}"] == pytest.approx(theirs[f"eval_{name}"], abs=1e-9), name
    assert ours["eval_samples_per_second"] > 0


# torch.compile, regional ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_torch_compile_compiles_each_repeated_block(backbones, kind):
    """Every layer of the backbone is compiled (the adapter inside it), nothing else."""
    from peftspec.build.compile import repeated_blocks
    from peftspec.build.model import build_model

    built = build_model(tiny_spec(backbones[kind], kind, torch_compile=True), EMOTIONS, "fp32")
    path, blocks = repeated_blocks(built.model)
    assert path.endswith("layers" if kind != "bert" else "encoder.layer") and len(blocks) == 2
    assert all(block._compiled_call_impl is not None for block in blocks)
    compiled = [m for m in built.model.modules() if getattr(m, "_compiled_call_impl", None) is not None]
    assert len(compiled) == 2 and built.compiled_blocks.startswith("2 ")
    plain = build_model(tiny_spec(backbones[kind], kind), EMOTIONS, "fp32")
    assert plain.compiled_blocks is None
    assert not any(getattr(m, "_compiled_call_impl", None) for m in plain.model.modules())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["qwen2", "bert"])
def test_compiled_blocks_give_the_eager_models_logits_loss_and_gradients(backbones, kind):
    """The numerical check of the compiled model against eager (a CPU compile takes about a minute)."""
    import torch

    from peftspec.build.model import build_model

    torch.manual_seed(0)
    eager = build_model(tiny_spec(backbones[kind], kind), EMOTIONS, "fp32").model
    torch.manual_seed(0)
    compiled = build_model(tiny_spec(backbones[kind], kind, torch_compile=True), EMOTIONS, "fp32").model
    batch = fixed_batch()
    assert_numerically_equal(forward_backward(eager, batch), forward_backward(compiled, batch))


# micro_batch = "auto" ---------------------------------------------------------------------------


def test_auto_micro_batch_is_the_largest_cut_of_the_effective_batch_that_fits():
    """On the Qwen-7B QLoRA spec (real config from the family table): the chosen micro-batch fits
    the budget by the estimate, the next larger divisor of the effective batch does not, and the
    effective batch is kept."""
    from peftspec.plan.advice import HEADROOM, label_count, with_trainer
    from peftspec.plan.config import real_config
    from peftspec.plan.memory import GiB, estimate
    from peftspec.plan.micro import divisors_descending, fit_micro_batch
    from peftspec.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[1] / "specs" / "qwen_qlora.toml")
    config, _ = real_config(spec.backbone)
    labels = label_count(spec)
    assert fit_micro_batch(spec, config, labels, 141 * GiB).batch_size == 64  # an H200: all of it
    for budget_gib in (16, 24, 40):
        chosen = fit_micro_batch(spec, config, labels, budget_gib * GiB)
        assert chosen.effective == 64 and chosen.batch_size * chosen.accumulation == 64
        assert chosen.estimate_bytes <= budget_gib * GiB * HEADROOM
        larger = [d for d in divisors_descending(64) if d > chosen.batch_size]
        if larger:
            bigger = with_trainer(spec, batch_size=larger[-1], gradient_accumulation_steps=64 // larger[-1])
            assert estimate(bigger, config, labels).total > budget_gib * GiB * HEADROOM
    assert fit_micro_batch(spec, config, labels, None).batch_size == spec.trainer.batch_size  # CPU


def test_a_run_with_auto_micro_batch_records_the_cut_it_ran(backbones):
    """`compile_run` resolves the cut for the GPU's memory; the run's spec and plan say what ran."""
    from peftspec.build.compiled import resolve_micro_batch
    from peftspec.plan.memory import GiB

    spec = tiny_spec(
        backbones["qwen2"], "qwen2", batch_size=2, gradient_accumulation_steps=8, micro_batch="auto"
    )
    resolved, line = resolve_micro_batch(spec, len(EMOTIONS), "bf16", budget=1 * GiB)
    assert (resolved.trainer.batch_size, resolved.trainer.gradient_accumulation_steps) == (16, 1)
    assert "micro-batch 16 x 1" in line and "the spec says 2 x 8" in line
    kept, line = resolve_micro_batch(spec, len(EMOTIONS), "fp32")  # this machine: no GPU
    assert (kept.trainer.batch_size, kept.trainer.gradient_accumulation_steps) == (2, 8)
    assert "no GPU memory" in line
    untouched, line = resolve_micro_batch(tiny_spec(backbones["qwen2"], "qwen2"), len(EMOTIONS), "fp32")
    assert line is None and untouched.trainer.micro_batch is None


def test_plan_suggests_auto_micro_batch_when_a_larger_one_fits(capsys):
    from peftspec.cli import main

    root = Path(__file__).resolve().parents[1]
    assert main(["plan", str(root / "specs" / "qwen_qlora.toml"), "--gpu-memory", "141GB"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert 'trainer.micro_batch = "auto" would run the same effective batch (64) as 64 x 1' in said
    assert main(["plan", str(root / "specs" / "qwen_qlora.toml"), "--gpu-memory", "12GB"]) == 1
    assert "would run" not in capsys.readouterr().out


def test_training_goes_on_unchanged_after_an_in_training_evaluation_of_a_4bit_model(backbones, tmp_path):
    """QLoRA on the CPU: an evaluation must leave the model as trainable as it was (bitsandbytes
    repacks 4-bit CPU weights for inference in eval mode on CPUs with AVX512-BF16, after which a
    backward pass fails; the Trainer's own loop has the same fault); the gradients on a fixed
    batch are the same before and after."""
    import torch

    from peftspec.build.data import Split
    from peftspec.build.model import build_model
    from peftspec.build.tokenize import collator, to_dataset
    from peftspec.build.training_args import build_training_arguments
    from peftspec.spec.quantization import Bnb4bit
    from peftspec.train.evaluation import PeftspecTrainer

    spec = tiny_spec(backbones["qwen2"], "qwen2", dropout=0.0, learning_rate=1e-3, eval_batch_size=4)
    spec = spec.model_copy(update={"quantization": Bnb4bit(method="bnb-4bit", compute_dtype="bfloat16")})
    torch.manual_seed(0)
    built = build_model(spec, EMOTIONS, "fp32")
    batch = fixed_batch(vocab=150)
    before = forward_backward(built.model, batch, "train")
    rows = synthetic_rows(12, seed=4)
    labels = np.array([[row[name] for name in EMOTIONS] for row in rows])
    split = Split("validation", [r["text"] for r in rows], [str(i) for i in range(12)], labels)
    dataset = to_dataset(split, built.tokenizer, 32, "multi_label")
    args = build_training_arguments(spec.trainer, output_dir=tmp_path, precision="fp32", use_cpu=True)
    trainer = PeftspecTrainer(
        task="multi_label", precision="fp32", model=built.model, args=args,
        data_collator=collator(built.tokenizer), eval_dataset=dataset,
    )  # fmt: skip
    assert trainer.evaluate()["eval_loss"] > 0
    after = forward_backward(built.model, batch, "train")
    assert torch.equal(after[0], before[0])
    assert torch.nn.functional.cosine_similarity(after[2], before[2], dim=0).item() > 0.9999


# adapter input casts ------------------------------------------------------------------------------


def test_skipping_the_adapter_input_casts_under_autocast_gives_the_same_model(backbones):
    """bf16 backbone, fp32 adapters, bf16 autocast (as a bf16 run trains): with
    `cast_adapter_inputs = false` the adapters take bf16 inputs and autocast casts them; logits,
    loss and gradients pass the issue's check against PEFT's casting."""
    import torch

    from peftspec.build.model import build_model

    results = []
    for cast in (True, False):
        spec = tiny_spec(backbones["qwen2"], "qwen2", cast_adapter_inputs=cast)
        spec.backbone.dtype = "bfloat16"
        torch.manual_seed(0)
        model = build_model(spec, EMOTIONS, "bf16").model
        layers = [m for m in model.modules() if hasattr(m, "cast_input_dtype_enabled")]
        assert layers and all(m.cast_input_dtype_enabled is cast for m in layers)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, loss, grads = forward_backward(model, fixed_batch(vocab=150))
        results.append((logits.float(), loss.float(), grads.float()))
    assert_numerically_equal(*results)
    fp32 = build_model(tiny_spec(backbones["qwen2"], "qwen2", cast_adapter_inputs=False), EMOTIONS, "fp32")
    assert all(
        m.cast_input_dtype_enabled for m in fp32.model.modules() if hasattr(m, "cast_input_dtype_enabled")
    )


def test_the_compile_timer_reports_the_first_steps_excess(monkeypatch):
    """Five steps: the first (compiling) 30 s, the others about 0.1 s: 29.9 s of compiling, recorded
    once in the metric stream and said on the console."""
    from types import SimpleNamespace

    from rich.console import Console

    from peftspec.train.callbacks import CompileTimer

    logged = []
    writer = SimpleNamespace(log=logged.append)
    console = Console(record=True, width=200)
    timer = CompileTimer(writer, console, "2 BertLayer blocks")
    clock = iter([0.0, 30.0, 30.0, 30.1, 30.1, 30.2, 30.2, 30.3, 30.3, 30.4])
    monkeypatch.setattr(timer, "_now", lambda: next(clock))
    for step in range(1, 8):
        state = SimpleNamespace(global_step=step, is_world_process_zero=True)
        timer.on_step_begin(None, state, None)
        timer.on_step_end(None, state, None)
    (record,) = logged
    assert record["event"] == "compile" and record["step"] == 5
    assert record["first_step_s"] == 30.0 and abs(record["compile_s"] - 29.9) < 1e-6
    assert "about 29.9 s compiling" in console.export_text()

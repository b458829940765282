"""The reference workloads on one GPU, with random weights built from the real configs (no download).

    python benchmarks/gpu.py            # on a CUDA GPU, under 8 minutes
    python benchmarks/gpu.py --tiny     # the same code path on a CPU, with toy-sized models

For Gemma-1.1-2B + LoRA (bf16), Gemma-1.1-2B + IA3 and gte-Qwen1.5-7B + QLoRA (4-bit NF4), each
built as its spec in specs/ says (adapter, quantisation, batch size) from the config in peftspec's
built-in family table, it reports: training tokens/s and samples/s, model FLOPs utilisation (4N
FLOPs per token for adapter training, 2N for evaluation, N the non-embedding parameters), evaluation
samples/s, and peak GPU memory of a step at full max_length next to `peftspec plan`'s estimate.

Inputs have SemEval-2018 E-c tweet lengths (quantiles of the tweets' token counts, below),
batched as peftspec batches them: similar lengths together, padded per batch, evaluation sorted
by length under torch.inference_mode with twice the training batch. The loop is plain PyTorch
(autocast bf16, AdamW), so it measures the model, not the Trainer's bookkeeping.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEMEVAL_LENGTH_QUANTILES = [3, 13, 19, 28, 35, 40, 49, 71]
"""Token counts of the SemEval-2018 E-c training tweets at quantiles 0, 10, 25, 50, 75, 90, 99, 100%
(MiniLM's WordPiece; Gemma's and Qwen's tokenizers give counts within about 15%)."""
QUANTILES = [0, 0.10, 0.25, 0.50, 0.75, 0.90, 0.99, 1.0]
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}
WORKLOADS = ["gemma_lora", "gemma_ia3", "qwen_qlora"]
LABELS = 11


def lengths(n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return np.interp(rng.random(n), QUANTILES, SEMEVAL_LENGTH_QUANTILES).round().astype(int)


def batches(lens, batch_size: int, shuffle_seed: int = 0):
    """Length-grouped batches, as peftspec's default sampler makes them (batch order shuffled)."""
    import numpy as np

    order = np.argsort(lens, kind="stable")
    groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    np.random.default_rng(shuffle_seed).shuffle(groups)
    return [[int(lens[i]) for i in g] for g in groups]


def make_batch(row_lengths, vocab: int, device, pad_id: int = 0):
    import torch

    width = -(-max(row_lengths) // 8) * 8  # as peftspec's collator pads on a GPU
    ids = torch.full((len(row_lengths), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, n in enumerate(row_lengths):
        ids[r, :n] = torch.randint(5, vocab, (n,))
        mask[r, :n] = 1
    labels = torch.randint(0, 2, (len(row_lengths), LABELS)).float()
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def build(spec, config, device, dtype):
    """The classifier with random weights, quantised and wrapped as the spec says."""
    import torch
    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForSequenceClassification

    from peftspec.spec.adapters import PeftContext

    config.num_labels, config.problem_type = LABELS, "multi_label_classification"
    config.pad_token_id = 0
    with torch.device(device):
        model = AutoModelForSequenceClassification.from_config(config, dtype=dtype)
    if spec.quantization.method == "bnb-4bit":
        quantise_4bit(model, spec, dtype)
        model.is_loaded_in_4bit = True
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    peft_config = spec.adapter.to_peft_config(PeftContext(total_steps=100, tokenizer=None))
    return get_peft_model(model, peft_config)


def quantise_4bit(model, spec, dtype) -> None:
    """Replace the backbone's linear layers by bitsandbytes NF4 layers, as `from_pretrained` would."""
    import bitsandbytes as bnb
    import torch

    from peftspec.build.model import unquantised_modules

    keep = set(unquantised_modules(spec))
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is not torch.nn.Linear or name in keep:
                continue
            layer = bnb.nn.Linear4bit(
                child.in_features,
                child.out_features,
                bias=child.bias is not None,
                compute_dtype=dtype,
                compress_statistics=spec.quantization.double_quant,
                quant_type=spec.quantization.quant_type,
                device="meta",
            )
            layer.weight = bnb.nn.Params4bit(
                child.weight.data,
                requires_grad=False,
                compress_statistics=spec.quantization.double_quant,
                quant_type=spec.quantization.quant_type,
            ).to(child.weight.device)
            if child.bias is not None:
                layer.bias = child.bias
            setattr(parent, name, layer)
            del child


def non_embedding_parameters(model) -> int:
    return sum(
        p.numel() * (2 if p.__class__.__name__ == "Params4bit" else 1)
        for n, p in model.named_parameters()
        if "embed" not in n
    )


def sync(device) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def train_rate(model, spec, vocab, device, dtype, steps: int, warmup: int = 10) -> dict:
    import torch

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=spec.trainer.learning_rate, fused=device == "cuda")
    plan = batches(lengths((steps + warmup) * spec.trainer.batch_size), spec.trainer.batch_size)
    model.train()
    tokens = samples = 0
    for i, rows in enumerate(plan[: steps + warmup]):
        if i == warmup:
            sync(device)
            started = time.perf_counter()
            tokens = samples = 0
        batch = make_batch(rows, vocab, device)
        with torch.autocast(device_type=device, dtype=dtype):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += sum(rows)
        samples += len(rows)
    sync(device)
    elapsed = time.perf_counter() - started
    peak = full_length_peak(model, optimizer, spec, vocab, device, dtype)
    return {"tokens_per_s": tokens / elapsed, "samples_per_s": samples / elapsed, "peak_bytes": peak}


def full_length_peak(model, optimizer, spec, vocab, device, dtype) -> float | None:
    """Peak memory of one training step with every row at max_length (what `plan` estimates)."""
    import torch

    if device != "cuda":
        return None
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    batch = make_batch([spec.dataset.max_length] * spec.trainer.batch_size, vocab, device)
    with torch.autocast(device_type=device, dtype=dtype):
        loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    sync(device)
    return float(torch.cuda.max_memory_allocated())


def eval_rate(model, spec, vocab, device, dtype, rows: int) -> tuple[float, float]:
    """(samples/s, tokens/s) of evaluation."""
    import torch

    size = spec.trainer.eval_batch_size or 2 * spec.trainer.batch_size
    lens = sorted(lengths(rows, seed=1), reverse=True)
    model.eval()
    with torch.inference_mode(), torch.autocast(device_type=device, dtype=dtype):
        model(**make_batch(lens[:size], vocab, device))  # warm-up
        sync(device)
        started = time.perf_counter()
        for i in range(0, rows, size):
            model(**{k: v for k, v in make_batch(lens[i : i + size], vocab, device).items() if k != "labels"})
        sync(device)
    elapsed = time.perf_counter() - started
    return rows / elapsed, float(sum(lens)) / elapsed


def run(name: str, args) -> dict:
    import torch

    from peftspec.check.toy import shrink
    from peftspec.plan.families import config_for
    from peftspec.plan.memory import estimate
    from peftspec.spec import load_spec

    spec = load_spec(ROOT / "specs" / f"{name}.toml")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16
    config = config_for(spec.backbone.model)
    if args.tiny:
        shrink(config, range(1000))  # a 1,000-token vocabulary
    est = estimate(
        spec, config_for(spec.backbone.model) if not args.tiny else config, LABELS, precision="bf16"
    )
    model = build(spec, config, device, dtype)
    n = non_embedding_parameters(model)
    trained = train_rate(model, spec, config.vocab_size, device, dtype, args.steps)
    evals, eval_tokens = eval_rate(model, spec, config.vocab_size, device, dtype, args.eval_rows)
    peak_flops = next(
        (v for k, v in PEAK_BF16_FLOPS.items() if device == "cuda" and k in torch.cuda.get_device_name()),
        None,
    )
    result = {
        "workload": name,
        "backbone": spec.backbone.model,
        "adapter": spec.adapter.kind,
        "quantization": spec.quantization.method,
        "batch_size": spec.trainer.batch_size,
        "non_embedding_parameters": n,
        "train_tokens_per_s": trained["tokens_per_s"],
        "train_samples_per_s": trained["samples_per_s"],
        "train_mfu": 4 * n * trained["tokens_per_s"] / peak_flops if peak_flops else None,
        "eval_samples_per_s": evals,
        "eval_mfu": 2 * n * eval_tokens / peak_flops if peak_flops else None,
        "peak_gib": trained["peak_bytes"] / 2**30 if trained["peak_bytes"] else None,
        "plan_gib": est.total / 2**30,
    }
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="toy-sized models (a CPU check of the code path)")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per workload")
    parser.add_argument("--eval-rows", type=int, default=2048)
    parser.add_argument("--only", help="comma-separated workloads (default: all three)")
    parser.add_argument("-o", "--output", help="also write the results as JSON here")
    args = parser.parse_args()
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    print(f"device: {device}; torch {torch.__version__}")
    results = []
    for name in args.only.split(",") if args.only else WORKLOADS:
        started = time.perf_counter()
        results.append(run(name, args))
        results[-1]["wall_s"] = time.perf_counter() - started
        print(json.dumps(results[-1]), flush=True)
    columns = [
        "workload",
        "batch",
        "train tok/s",
        "train smp/s",
        "MFU",
        "eval smp/s",
        "eval MFU",
        "peak GiB",
        "plan GiB",
    ]
    print("\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for r in results:
        cells = [
            r["workload"],
            str(r["batch_size"]),
            f"{r['train_tokens_per_s']:,.0f}",
            f"{r['train_samples_per_s']:,.1f}",
            f"{r['train_mfu']:.1%}" if r["train_mfu"] is not None else "-",
            f"{r['eval_samples_per_s']:,.1f}",
            f"{r['eval_mfu']:.1%}" if r["eval_mfu"] is not None else "-",
            f"{r['peak_gib']:.2f}" if r["peak_gib"] is not None else "-",
            f"{r['plan_gib']:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")
    if args.output:
        Path(args.output).write_text(json.dumps({"device": device, "results": results}, indent=2))


if __name__ == "__main__":
    main()

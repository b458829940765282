"""Two of issue 15's levers measured on this CPU with a real model, in one process: the in-training
evaluation loop and the fused AdamW step.

    python benchmarks/levers_cpu.py [--repeats 5] [-o results.json]

`specs/semeval_ec.toml` (MiniLM-L6 + LoRA r=16, the real pretrained weights) is compiled and its
model built once. Then, alternating the two arms `--repeats` times:

- **evaluation**: `Trainer.evaluate()` on the validation split (1,545 tweets; the spec's eval
  batch of 64) with the Trainer's generic loop, against peftspec's (`PeftspecTrainer`: length
  sorted, no autograd, logits kept until the end); the metrics must agree;
- **optimizer step**: one AdamW step over the adapter's and head's parameters with gradients set,
  unfused (`foreach`, what `adamw_torch` runs) against fused (`adamw_torch_fused`, the default).

Reports the medians and their ratio. Needs ../shared/data/semeval2018_ec beside the checkout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-o", "--output")
    args = parser.parse_args()

    import torch
    from transformers import Trainer

    from peftspec.build.compiled import compile_run
    from peftspec.spec import load_spec
    from peftspec.train.evaluation import PeftspecTrainer

    spec_file = ROOT / "specs" / "semeval_ec.toml"
    compiled = compile_run(load_spec(spec_file), [str(spec_file)])
    parts = compiled.build_model()
    with tempfile.TemporaryDirectory() as tmp:
        common = {
            "model": parts.model,
            "args": compiled.training_arguments(Path(tmp)),
            "data_collator": parts.collator,
            "eval_dataset": parts.datasets["validation"],
            "compute_metrics": parts.computer,
        }
        generic = Trainer(**common)
        ours = PeftspecTrainer(task=compiled.settings.task, precision=compiled.settings.precision, **common)
        times: dict[str, list[float]] = {"trainer_loop": [], "peftspec_loop": []}
        metrics = {}
        for _ in range(args.repeats):
            for name, trainer in (("trainer_loop", generic), ("peftspec_loop", ours)):
                result = trainer.evaluate()
                times[name].append(result["eval_runtime"])
                metrics[name] = {k: result[k] for k in ("eval_loss", "eval_f1_macro", "eval_jaccard")}

    trainable = [p for p in parts.model.parameters() if p.requires_grad]
    for p in trainable:
        p.grad = torch.randn_like(p) * 1e-3
    steps: dict[str, list[float]] = {"adamw_torch": [], "adamw_torch_fused": []}
    optimizers = {
        "adamw_torch": torch.optim.AdamW(trainable, lr=1e-4, foreach=True),
        "adamw_torch_fused": torch.optim.AdamW(trainable, lr=1e-4, fused=True),
    }
    for opt in optimizers.values():  # allocate the states
        opt.step()
    for _ in range(args.repeats):
        for name, opt in optimizers.items():
            started = time.perf_counter()
            for _ in range(50):
                opt.step()
            steps[name].append((time.perf_counter() - started) / 50)

    out = {
        "rows": len(parts.datasets["validation"]),
        "eval_batch_size": compiled.settings.eval_batch_size,
        "threads": torch.get_num_threads(),
        "trainable_parameters": sum(p.numel() for p in trainable),
        "eval_runtime_s": {k: statistics.median(v) for k, v in times.items()},
        "eval_runs_s": times,
        "eval_ratio": statistics.median(times["trainer_loop"]) / statistics.median(times["peftspec_loop"]),
        "metrics": metrics,
        "optimizer_step_ms": {k: 1000 * statistics.median(v) for k, v in steps.items()},
        "optimizer_ratio": statistics.median(steps["adamw_torch"])
        / statistics.median(steps["adamw_torch_fused"]),
    }
    print(json.dumps(out, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

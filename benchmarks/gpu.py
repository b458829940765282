"""The reference workloads as `peftspec run` runs them, on one GPU, with random weights of the real
configs (no download), and each speed lever as a ratio against the default in the same process.

    python benchmarks/gpu.py -o benchmarks/gpu-h200.json     # one CUDA GPU, about 8 minutes
    python benchmarks/gpu.py --tiny -o /tmp/tiny.json       # the same code on a CPU, toy models
    python benchmarks/gpu.py --show benchmarks/gpu-h200.json  # its tables again, from the JSON

On the lent H200, whose image lacks some of peftspec's dependencies: `benchmarks/device_kit.py`.

For `specs/gemma_lora.toml`, `gemma_ia3.toml` and `qwen_qlora.toml` the spec is compiled by
peftspec (`compile_run`) and trained by peftspec's `TrainingSession`: its collator, length-grouped
sampler, optimizer, clipping, callbacks, in-training evaluations and checkpoint saves at the
spec's cadence. Only two things are not the user's: the weights are random (the backbone is built
from its config in peftspec's family table, quantised as the spec says) and the tokenizer is one
trained on the texts in the family's style. The texts are the SemEval-2018 E-c tweets when the
shared copy is beside the checkout (or in the folder `--data` names), else synthetic texts with the
tweets' length distribution.

Arms, each the default with one change: `default` (the spec as shipped), `no-fused` (unfused
AdamW), `trainer-eval` (the Trainer's generic evaluation loop), `micro-auto` (`micro_batch =
"auto"`, where the spec accumulates), `no-input-cast` (adapters take their inputs as autocast
gives them), `workers` (2 dataloader workers), `pad-longest` (batches padded to their longest
row, not rounded up to a multiple of 8), `eval-256` (evaluation batches of 256 rows),
`notebook` (the reference notebook's approach: every row padded to max_length, random batches,
the Trainer's defaults for optimizer and evaluation), `compile` (regional torch.compile),
`cuda-graphs` (the same compile capturing each block as CUDA graphs, an experiment) and `liger`
(Liger's kernels, where CUDA and liger-kernel are). Once per workload, `packed-eval`
times an evaluation with padding-free packed batches against padded ones
(`peftspec.build.packing`, experimental) and checks their logits agree.

Each arm runs until its share of the time budget is spent. Step times are taken per optimizer
step (the warm-up steps and the first step of each new padded width are not timed; if fewer than
three steps are left, every step after the warm-up is, and the JSON's `timed` says so) and
reported as the median of three consecutive windows with their spread. Before the first arm, one
forward and backward at every padded width and one evaluation fill the process's caches, so the
default arm, which runs first, pays no more than the others. The whole spec's wall time is
extrapolated from the measured parts: steps x step time + evaluations x evaluation time + saves
x save time + the final evaluation + the compile (the first steps' excess). Numerical checks
(logits and loss within 1e-2 relative, gradient cosine > 0.999) run once per workload before the
arms. The JSON is rewritten after every arm, so a time-out still leaves every finished arm.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import tempfile
import time
import traceback
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_checks import (  # noqa: E402
    changed_against_eager,
    numerical_checks,
    packed_evaluation,
    transformers_restored,
    warm_up,
)
from gpu_timing import Timing, peak_flops  # noqa: E402
from gpu_workspace import SEMEVAL, pad_to_max_length, workspace  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

WORKLOADS = ["gemma_lora", "qwen_qlora", "gemma_ia3"]
"""In the order of the issue's goals (Gemma LoRA's MFU and its ratio to the notebook, Qwen QLoRA's
MFU with `micro_batch = "auto"`; IA3 has none): a time-out loses the last."""
OVERRIDES = {
    "default": [],
    "notebook": ["trainer.group_by_length=false", "trainer.eval_batch_size=8"],  # and more (arm_spec)
    "micro-auto": ['trainer.micro_batch="auto"'],
    "eval-256": ["trainer.eval_batch_size=256"],  # the default is twice the training micro-batch
    "trainer-eval": [],  # and the Trainer's own evaluation loop (run_arm)
    "no-fused": ['trainer.optimizer="adamw_torch"'],
    "no-input-cast": ["trainer.cast_adapter_inputs=false"],
    "workers": ["trainer.dataloader_workers=2"],
    "pad-longest": [],  # and the collator without rounding (run_arm)
    "compile": ["trainer.torch_compile=true"],
    "cuda-graphs": [],  # regional compile with CUDA graphs, after `compile` is undone (run_arm)
    "liger": ["trainer.liger_kernels=true"],
}
"""Each arm's change to the default, in the order the arms run: the headline (`notebook`) and the
goals' arms first, as a time-out loses the last ones; `compile` changes the workload's model, so it
runs after the others, and `cuda-graphs` after it on the same blocks made eager again; `liger`
builds a model of its own (Liger patches in place, for good) and runs where CUDA and
liger-kernel are."""
ARMS = list(OVERRIDES)
EXTRAS = ["packed-eval"]
"""Measured once per workload, before the arms: evaluation with padding-free packed batches."""


def arm_spec(name: str, arm: str, space, args):
    """The workload's spec for one arm, stopped after the timed steps."""
    from transformers import TrainingArguments

    from peftspec.spec import load_spec

    overrides = list(space.overrides) + OVERRIDES[arm]
    if arm == "notebook":  # the Trainer's own default optimizer
        overrides.append(f'trainer.optimizer="{TrainingArguments(output_dir="x").optim.value}"')
    overrides.append(f"trainer.max_steps={space.warmup + 3 * args.steps}")
    return load_spec(ROOT / "specs" / f"{name}.toml", overrides)


def run_arm(name: str, arm: str, space, parts, bundle, args, budget_s: float, full_steps: int) -> dict:
    """Train one arm on the workload's model for `budget_s` seconds (or its steps) and measure it."""
    import dataclasses

    import torch
    from rich.console import Console
    from transformers import Trainer

    from peftspec.build.compile import compile_blocks
    from peftspec.build.compiled import compile_run
    from peftspec.build.predict import four_bit_layers
    from peftspec.runs.layout import new_run_dir
    from peftspec.runs.writer import RunWriter
    from peftspec.train.evaluation import PeftspecTrainer
    from peftspec.train.session import TrainingSession

    spec = arm_spec(name, arm, space, args)
    compiled = compile_run(spec, [str(ROOT / "specs" / f"{name}.toml")], data=bundle)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    extra: dict = {}
    if arm == "pad-longest":  # on a GPU the default rounds each batch's width up to a multiple of 8
        from peftspec.build.tokenize import collator

        parts = dataclasses.replace(parts, collator=collator(parts.tokenizer, multiple=1))
    if arm == "notebook":
        max_length = spec.dataset.max_length
        datasets = {k: pad_to_max_length(v, parts.tokenizer, max_length) for k, v in parts.datasets.items()}
        parts = dataclasses.replace(parts, datasets=datasets)
    precision = compiled.settings.precision
    if arm == "liger":  # a fresh model, its numerical check, then the arm on it
        from peftspec.build.liger import apply_liger_kernels

        parts = compile_run(arm_spec(name, "default", space, args), data=bundle).build_model()
        extra["liger"], extra["check"], _ = changed_against_eager(
            parts, precision, lambda model: apply_liger_kernels(model, on_gpu=True)
        )
    if arm == "cuda-graphs":  # the compile arm compiled the workload's blocks in place: eager again
        eager_blocks(parts.model)
    if arm in ("compile", "cuda-graphs"):  # the numerical check, then the arm on the compiled model
        import torch._dynamo
        from torch._dynamo.utils import counters

        torch._dynamo.reset()  # earlier workloads' compiles count against dynamo's process-wide limits
        counters.clear()
        mode = "reduce-overhead" if arm == "cuda-graphs" else None
        extra["compiled"], extra["check"], first_s = changed_against_eager(
            parts, precision, lambda model: compile_blocks(model, mode)
        )
        extra["first_compile_s"] = round(first_s, 2)
        extra["graphs"] = dict(counters["stats"])  # unique_graphs 0: nothing was compiled
        extra["graph_breaks"] = sum(counters["graph_break"].values())
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    writer = RunWriter(
        new_run_dir(space.folder / "runs", f"{name}-{arm}"), compiled.record.model_copy(deep=True)
    )
    timing = Timing(parts.model, budget_s, profile=arm == "default", device=device, warmup=space.warmup)
    generic = arm in ("trainer-eval", "notebook")
    original = PeftspecTrainer.evaluation_loop
    hooks = []
    if generic:  # the Trainer's own evaluation loop
        PeftspecTrainer.evaluation_loop = Trainer.evaluation_loop
        # which, on a CPU with AVX512-BF16, leaves bitsandbytes' 4-bit weights in an inference-only
        # layout (the fault peftspec's loop avoids): keep the model as the later arms need it
        hooks = [layer.register_forward_pre_hook(_trainable) for layer in four_bit_layers(parts.model)]
    try:
        session = TrainingSession(compiled, parts, writer, Console(quiet=True))
        session.trainer.add_callback(timing)
        if arm == "cuda-graphs":
            session.trainer.add_callback(GraphSteps())
        session.train()
    finally:
        PeftspecTrainer.evaluation_loop = original
        for hook in hooks:
            hook.remove()
        writer.close()
    rows = {s.name: len(s) for s in bundle.splits()}
    result = timing.summary(spec, full_steps, space, rows.get("validation", 0), rows.get("test", 0))
    args_ = session.trainer.args
    result.update(
        arm=arm,
        micro_batch=f"{args_.per_device_train_batch_size} x {args_.gradient_accumulation_steps}",
        optimizer=getattr(args_.optim, "value", str(args_.optim)),
        eval_batch_size=args_.per_device_eval_batch_size,
        peak_gib=torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
        **extra,
    )
    if "first_compile_s" in extra and "step_s" in result:  # compiled in the check, before training
        result["compile_s"] = extra["first_compile_s"] + result["first_shape_excess_s"]
        if result.get("spec_wall_s") is not None:
            result["spec_wall_s"] += extra["first_compile_s"]
    session.trainer.model = session.trainer.model_wrapped = None  # the workload's model lives on
    del session
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return result


def eager_blocks(model) -> None:
    """Undo `compile_blocks` (no rebuild of the model, which costs a 7B QLoRA load): each block
    runs its own forward again, as before `nn.Module.compile` set its compiled call."""
    from peftspec.build.compile import repeated_blocks

    found = repeated_blocks(model)
    for block in found[1] if found else []:
        block._compiled_call_impl = None


class GraphSteps(TrainerCallback):
    """Tell CUDA-graph trees where each micro-batch begins, so that a replay never overwrites
    outputs of the previous micro-batch that autograd or the Trainer still hold."""

    def on_step_begin(self, args, state, control, **kwargs):
        import torch

        torch.compiler.cudagraph_mark_step_begin()

    on_substep_end = on_step_begin


def _trainable(module, args) -> None:
    module.training = True  # decides nothing in a 4-bit layer but bitsandbytes' CPU repacking


def run_workload(name: str, args, deadline: float, out: dict, save) -> None:
    """Build the workload's model once (as `peftspec run` would), run the checks, then each arm."""
    import torch

    from peftspec.build.compiled import compile_run
    from peftspec.build.data import load_data
    from peftspec.build.overview import step_counts
    from peftspec.plan.advice import label_count
    from peftspec.plan.memory import estimate
    from peftspec.spec import load_spec

    with tempfile.TemporaryDirectory() as tmp:
        space = workspace(name, Path(tmp), args)
        spec = load_spec(ROOT / "specs" / f"{name}.toml", space.overrides)
        bundle = load_data(spec.dataset)
        full_steps = step_counts(spec.trainer, len(bundle.train))[1]  # the whole spec's steps
        started = time.perf_counter()
        compiled = compile_run(arm_spec(name, "default", space, args), data=bundle)
        parts = compiled.build_model()
        build_s = time.perf_counter() - started
        plan = estimate(spec, space.config, label_count(spec), precision="bf16")
        entry = {
            "workload": name,
            "data": space.data_source,
            "train_rows": len(bundle.train),
            "plan_gib_at_max_length": plan.total / 2**30,
            "build_s": round(build_s, 1),
            "non_embedding_flops_per_token": space.flops_per_token,
            "arms": {},
        }
        out["workloads"].append(entry)
        entry["checks"] = numerical_checks(compiled, parts, compiled.settings.precision)
        entry["warm_up"] = warm_up(compiled, parts, spec.trainer.batch_size, compiled.settings.precision)
        save()
        if "packed-eval" in args.arms:  # padding-free batches, evaluation only (experimental)
            try:
                entry["packed_eval"] = packed_evaluation(compiled, parts, compiled.settings.precision)
            except Exception as exc:
                entry["packed_eval"] = {"error": said(exc)}
            save()
        accumulates = spec.trainer.gradient_accumulation_steps > 1
        arms = [a for a in ARMS if a in args.arms and (a != "micro-auto" or accumulates)]
        skipped = [a for a in arms if a == "liger" and not liger_runs()]
        arms = [a for a in arms if a not in skipped]
        for i, arm in enumerate(arms):
            left = deadline - time.perf_counter()
            workloads_left = len(args.workloads) - args.workloads.index(name)
            budget = max(2.0, left / workloads_left / (len(arms) - i) * 0.8)
            try:
                with transformers_restored():  # Liger patches transformers' modules process-wide
                    result = run_arm(name, arm, space, parts, bundle, args, budget, full_steps)
            except Exception as exc:  # an arm that fails is recorded; the others still run
                result = {"arm": arm, "error": said(exc)}
            entry["arms"][arm] = result
            entry["ratios"] = ratios(entry["arms"])
            save()
            print(json.dumps({k: v for k, v in result.items() if k != "window_medians_s"}), flush=True)
        for arm in skipped:
            entry["arms"][arm] = {"arm": arm, "skipped": "needs a CUDA GPU and liger-kernel"}
        save()
        del parts, compiled
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def said(exc: Exception) -> str:
    """An error as the JSON records it."""
    return f"{type(exc).__name__}: {exc}"[:2000]


def liger_runs() -> bool:
    import importlib.util

    import torch

    return torch.cuda.is_available() and importlib.util.find_spec("liger_kernel") is not None


def ratios(arms: dict) -> dict:
    """Each arm's time over the default's, for a step, an evaluation and the whole spec: above 1
    the default is that many times faster than the arm (for `notebook`, the headline), below 1 the
    arm is faster (an opt-in lever worth making a default, if its numerical check passed)."""
    base = arms.get("default")
    if not base or "error" in base:
        return {}
    found = {}
    for arm, r in arms.items():
        if arm == "default" or "error" in r or "skipped" in r:
            continue
        found[arm] = {
            "step_time": _over(r.get("step_s"), base.get("step_s")),
            "eval_time": _over(r.get("eval_s"), base.get("eval_s")),
            "spec_wall": _over(r.get("spec_wall_s"), base.get("spec_wall_s")),
        }
        if "compile_s" in r:  # the optimizer steps after which compiling has paid for itself
            saved = (base.get("step_s") or 0) - (r.get("step_s") or 0)
            found[arm]["payback_steps"] = math.ceil(r["compile_s"] / saved) if saved > 0 else None
    return found


def _over(arm, default):
    return round(arm / default, 3) if arm and default else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="toy-sized models on the CPU (the CI check)")
    parser.add_argument(
        "--steps", type=int, default=100, help="optimizer steps per timing window (3 windows)"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="micro-batches (at least 2 steps) before the first window"
    )
    parser.add_argument("--budget-s", type=float, default=420, help="the whole script's time budget")
    parser.add_argument("--only", help="comma-separated workloads (default: all three)")
    parser.add_argument(
        "--data",
        type=Path,
        help="a folder with SemEval-2018 E-c's train and dev files (default: the shared copy beside "
        "the checkout, if there, except with --tiny); without it, synthetic texts of the tweets' lengths",
    )
    parser.add_argument(
        "--arms",
        default=",".join(ARMS + EXTRAS),
        help=f"comma-separated arms (default: {','.join(ARMS + EXTRAS)})",
    )
    parser.add_argument("-o", "--output", help="write the results as JSON here (after every arm)")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if an arm failed or a numerical check did not pass (CI)"
    )
    parser.add_argument("--show", type=Path, help="print the tables of a JSON this script wrote, and exit")
    args = parser.parse_args()
    if args.show:
        report(json.loads(args.show.read_text()))
        return
    if args.tiny:
        args.steps, args.warmup = min(args.steps, 4), min(args.warmup, 2)
    args.workloads = args.only.split(",") if args.only else WORKLOADS
    if args.data is None and SEMEVAL.is_dir() and not args.tiny:
        args.data = SEMEVAL
    args.arms = args.arms.split(",")
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    out = {
        "device": device,
        "torch": torch.__version__,
        "versions": {name: version(name) for name in ("transformers", "peft", "accelerate", "bitsandbytes")},
        "peak_bf16_flops": peak_flops(),
        "tiny": args.tiny,
        "workloads": [],
    }

    def save() -> None:
        if args.output:
            Path(args.output).write_text(json.dumps(out, indent=2))

    deadline = time.perf_counter() + args.budget_s
    started = time.perf_counter()
    for name in args.workloads:
        try:
            run_workload(name, args, deadline, out, save)
        except Exception as exc:  # a workload that fails is recorded; the next still runs
            traceback.print_exc()
            entry = next((e for e in out["workloads"] if e["workload"] == name), None)
            if entry is None:
                entry = {"workload": name, "arms": {}}
                out["workloads"].append(entry)
            entry["error"] = said(exc)
            save()
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    out["wall_s"] = round(time.perf_counter() - started, 1)
    save()
    report(out)
    problems = failures(out)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if args.strict and problems:
        sys.exit(1)


def report(out: dict) -> None:
    """The results table, then what compiling needs to pay off and what packing gave."""
    print(table(out))
    for entry in out["workloads"]:
        for arm, what in (("compile", "compiling"), ("cuda-graphs", "compiling with CUDA graphs")):
            compiled = (entry.get("ratios") or {}).get(arm) or {}
            if "payback_steps" in compiled:
                steps, spec_steps = compiled["payback_steps"], entry["arms"][arm].get("spec_steps")
                print(
                    f"{entry['workload']}: {what} pays for itself after {steps} optimizer steps "
                    f"(the spec has {spec_steps})"
                    if steps
                    else f"{entry['workload']}: {arm} steps were not faster"
                )
        packed = entry.get("packed_eval") or {}
        if "packed_over_padded_speed" in packed:
            print(
                f"{entry['workload']}: packed evaluation {packed['packed_samples_per_s']:,.1f} samples/s, "
                f"padded {packed['padded_samples_per_s']:,.1f} "
                f"({packed['packed_over_padded_speed']:.2f}x; logits within {packed['logits_max_rel']:.1e})"
            )


def failures(out: dict) -> list[str]:
    """Arms that raised and numerical checks that did not pass."""
    found = []
    for entry in out["workloads"]:
        if "error" in entry:
            found.append(f"{entry['workload']}: {entry['error']}")
        for arm, r in entry["arms"].items():
            if "error" in r:
                found.append(f"{entry['workload']} {arm}: {r['error']}")
            elif r.get("check") and not r["check"]["passed"]:
                found.append(f"{entry['workload']} {arm}: numerical check {r['check']}")
        packed = entry.get("packed_eval") or {}
        if "error" in packed or packed.get("passed") is False:
            found.append(f"{entry['workload']} packed-eval: {packed}")
        for name, check in (entry.get("checks") or {}).items():
            if not check.get("passed"):
                found.append(f"{entry['workload']} {name}: numerical check {check}")
    return found


def table(out: dict) -> str:
    """The results as a markdown table: one row per workload and arm."""
    columns = ["workload", "arm", "micro", "step ms", "spread", "train smp/s", "MFU real", "MFU padded",
               "eval smp/s", "eval MFU", "spec wall s", "wall / default"]  # fmt: skip
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for entry in out["workloads"]:
        if "error" in entry:
            error = f"| {entry['workload']} | - | error: {entry['error'][:60]} |"
            lines.append(error + " |" * (len(columns) - 3))
        for arm, r in entry["arms"].items():
            if "error" in r or "skipped" in r:
                said = f"error: {r['error'][:60]}" if "error" in r else f"skipped: {r['skipped']}"
                lines.append(f"| {entry['workload']} | {arm} | {said} |" + " |" * (len(columns) - 3))
                continue
            ratio = (entry.get("ratios") or {}).get(arm, {}).get("spec_wall")  # arm / default
            cells = [
                entry["workload"],
                arm,
                r.get("micro_batch", "-"),
                _fmt(r.get("step_s"), 1000, "{:.1f}"),
                _fmt(r.get("step_spread"), 100, "{:.0f}%"),
                _fmt(r.get("train_samples_per_s"), 1, "{:,.1f}"),
                _fmt(r.get("mfu_real"), 100, "{:.1f}%"),
                _fmt(r.get("mfu_padded"), 100, "{:.1f}%"),
                _fmt(r.get("eval_samples_per_s"), 1, "{:,.1f}"),
                _fmt(r.get("eval_mfu"), 100, "{:.1f}%"),
                _fmt(r.get("spec_wall_s"), 1, "{:,.0f}"),
                f"{ratio:.2f}x" if ratio else "-",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value, scale: float, pattern: str) -> str:
    return "-" if value is None else pattern.format(value * scale)


if __name__ == "__main__":
    main()

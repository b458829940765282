"""The pieces of `benchmarks/gpu.py`: the workspace (data, tokenizer, a random checkpoint of the real
config), the timing callback, the numerical checks, and the notebook's pad-to-max_length."""

from __future__ import annotations

import json
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from transformers import TrainerCallback

ROOT = Path(__file__).resolve().parent.parent
SEMEVAL = ROOT.parent / "shared" / "data" / "semeval2018_ec"
EMOTIONS = [
    "anger", "anticipation", "disgust", "fear", "joy", "love",
    "optimism", "pessimism", "sadness", "surprise", "trust",
]  # fmt: skip
SEMEVAL_WORD_QUANTILES = [1, 8, 11, 16, 20, 24, 29, 40]
"""Words per SemEval-2018 E-c training tweet at quantiles 0, 10, 25, 50, 75, 90, 99, 100%."""
QUANTILES = [0, 0.10, 0.25, 0.50, 0.75, 0.90, 0.99, 1.0]
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}
SEMEVAL_ROWS = 7724


def peak_flops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)


@dataclass
class Space:
    folder: Path
    overrides: list[str]
    """`--set` values that point the spec at the random checkpoint and the data."""
    config: object
    data_source: str
    flops_per_token: float
    """4N: forward and backward through frozen weights (N: non-embedding parameters)."""


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(seed)
    words = [f"{a}{b}{c}" for a in "bcdfghklmnprstvz" for b in "aeiou" for c in "bdgklmnprst"]
    counts = np.interp(rng.random(n), QUANTILES, SEMEVAL_WORD_QUANTILES).round().astype(int)
    return [" ".join(rng.choice(words, size=k)) for k in counts]


SEMEVAL_FILES = ("2018-E-c-En-train.txt", "2018-E-c-En-dev.txt")


def write_data(folder: Path, rows: int, tiny: bool, data: Path | None) -> tuple[list[str], list[str], str]:
    """(overrides, texts, where the texts come from). With `data` (a folder holding SemEval-2018
    E-c's train and dev files) the real tweets: all of them, or the first `rows` in tiny mode;
    else synthetic texts of the tweets' lengths with random labels."""
    import numpy as np

    if data is not None:
        import polars as pl

        missing = [name for name in SEMEVAL_FILES if not (data / name).is_file()]
        if missing:
            raise SystemExit(f"--data {data}: no {', '.join(missing)} there")
        if not tiny:
            paths = [str((data / name).resolve()) for name in SEMEVAL_FILES]
            texts = [t for p in paths for t in pl.read_csv(p, separator="\t", quote_char=None)["Tweet"]]
            return [f"dataset.train={json.dumps(paths)}"], texts, f"SemEval-2018 E-c ({len(texts)} tweets)"
        frame = pl.read_csv(data / SEMEVAL_FILES[0], separator="\t", quote_char=None).head(rows)
        path = folder / "train.tsv"
        frame.write_csv(path, separator="\t", quote_style="never")
        texts = frame["Tweet"].to_list()
        return [f"dataset.train={json.dumps([str(path)])}"], texts, f"SemEval-2018 E-c (first {rows} tweets)"
    texts = synthetic_texts(rows)
    rng = np.random.default_rng(1)
    labels = rng.random((rows, len(EMOTIONS))) < 0.2
    path = folder / "train.tsv"
    lines = ["\t".join(["ID", "Tweet", *EMOTIONS])]
    lines += ["\t".join([f"s{i}", text, *(str(int(v)) for v in labels[i])]) for i, text in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = f"synthetic, SemEval tweet lengths ({rows} rows)"
    return [f"dataset.train={json.dumps([str(path)])}"], texts, source


def warmup_steps(args, spec) -> int:
    """`--warmup` micro-batches as optimizer steps (at least 2): Qwen's 8 x 8 warms up in 2 steps,
    not 10 (80 micro-batches); the process's caches are filled before the arms (`warm_up`)."""
    return max(2, -(-args.warmup // spec.trainer.gradient_accumulation_steps))


def workspace(name: str, folder: Path, args) -> Space:
    """A random checkpoint of the workload's real config (toy-sized with `--tiny`) and its
    tokenizer in one folder, the data, and the overrides that point the spec at both."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from peftspec.check.toy import family_of_backbone, shrink
    from peftspec.check.toy_tokenizer import save_tokenizer, train_tokenizer
    from peftspec.plan.families import config_for
    from peftspec.spec import load_spec

    spec = load_spec(ROOT / "specs" / f"{name}.toml")
    data_overrides, texts, source = write_data(
        folder, 240 if args.tiny else SEMEVAL_ROWS, args.tiny, args.data
    )
    config = config_for(spec.backbone.model)
    family = family_of_backbone(spec.backbone, config)
    tokenizer = train_tokenizer(
        family.tokenizer_style,
        family.specials,
        family.template,
        texts,
        vocab_size=1000 if args.tiny else 8000,
    )
    if args.tiny:
        shrink(config, tokenizer)
    else:
        config.vocab_size = max(config.vocab_size, len(tokenizer))
        for role in ("pad", "bos", "eos"):
            if hasattr(config, f"{role}_token_id"):
                setattr(config, f"{role}_token_id", getattr(tokenizer, f"{role}_token_id", None))
    model_dir = folder / "model"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if spec.backbone.dtype == "bfloat16" else torch.float32
    config.num_labels = len(EMOTIONS)
    with torch.device(device):
        model = AutoModelForSequenceClassification.from_config(config, dtype=dtype)
    model.save_pretrained(model_dir)
    n = sum(p.numel() for n_, p in model.named_parameters() if "embed" not in n_ and "score" not in n_)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    save_tokenizer(tokenizer, model_dir, family.specials)
    eval_every = warmup_steps(args, spec)  # an evaluation and a save early in every arm
    overrides = [
        *data_overrides,
        f'backbone.model="{model_dir}"',
        f"trainer.eval_steps={eval_every}",
        f"trainer.save_steps={eval_every}",
        'tracking.wandb.mode="disabled"',
    ]
    return Space(folder, overrides, config, source, 4.0 * n)


@dataclass
class Step:
    seconds: float
    shapes: list[tuple[int, int, int]] = field(default_factory=list)
    """(rows, padded width, real tokens) of each micro-batch."""
    profiled: bool = False
    """Taken under the profiler (slower): counted apart, not timed."""
    cold: bool = False
    """A warm-up step, or the first with one of its padded widths: its excess over the median is
    the cold-start cost, and it is not timed."""


class Timing(TrainerCallback):
    """A Trainer callback that times each optimizer step (synchronised), each evaluation and each
    checkpoint save, records the shape of every training batch, stops training when the arm's
    time is spent, and (with `profile`) counts the kernels of five warm steps."""

    def __init__(self, model, budget_s: float, profile: bool, device: str, warmup: int):
        self.budget_s, self.device, self.warmup, self.want_profile = budget_s, device, warmup, profile
        self.steps: list[Step] = []
        self.widths: set[int] = set()
        self.evals: list[dict] = []
        self.saves: list[float] = []
        self.eval_tokens = [0, 0]
        self._micro: list[tuple[int, int, int]] = []
        self._eval_in_gap = 0.0
        self.profile: dict | None = None
        self._profiler = None
        self.handle = model.register_forward_pre_hook(self._shape, with_kwargs=True)

    def _shape(self, module, args, kwargs):
        ids, mask = kwargs.get("input_ids"), kwargs.get("attention_mask")
        if ids is None:
            return
        real = int(mask.sum()) if mask is not None else ids.numel()
        if module.training:
            self._micro.append((ids.shape[0], ids.shape[1], real))
        else:
            self.eval_tokens[0] += real
            self.eval_tokens[1] += ids.numel()

    def _warm(self) -> list[Step]:
        return [s for s in self.steps if not s.cold and not s.profiled]

    def _sync(self) -> float:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
        return time.perf_counter()

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = self._sync()

    def on_step_begin(self, args, state, control, **kwargs):
        self._micro = []
        if (
            self.want_profile
            and self.profile is None
            and self._profiler is None
            and len(self.steps) == self.warmup + 2
        ):
            self._start_profile()
        self.t0 = self._sync()

    def on_step_end(self, args, state, control, **kwargs):
        self.t_end = self._sync()
        widths = {width for _, width, _ in self._micro}
        cold = len(self.steps) < self.warmup or bool(widths - self.widths)
        self.widths |= widths
        self.steps.append(Step(self.t_end - self.t0, self._micro, self._profiler is not None, cold))
        self._eval_in_gap = 0.0
        if self._profiler is not None and len(self.steps) == self.warmup + 7:
            self._stop_profile(5)
        spent = self.t_end - self.started
        enough = len(self._warm()) >= 3 and self.evals and self.saves
        if spent > self.budget_s and enough:
            control.should_training_stop = True

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        metrics = metrics or {}
        self._eval_in_gap = metrics.get("eval_runtime", 0.0)
        self.evals.append(
            {k: metrics.get(f"eval_{k}") for k in ("runtime", "samples_per_second", "loss", "f1_macro")}
        )

    def on_save(self, args, state, control, **kwargs):
        self.saves.append(self._sync() - self.t_end - self._eval_in_gap)

    def _start_profile(self) -> None:
        import torch

        activities = [torch.profiler.ProfilerActivity.CPU]
        if self.device == "cuda":
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        self._profiler = torch.profiler.profile(activities=activities)
        self._profiler.__enter__()
        self._profile_started = self._sync()

    def _stop_profile(self, steps: int) -> None:
        wall = self._sync() - self._profile_started
        self._profiler.__exit__(None, None, None)
        events = self._profiler.events()
        self._profiler = None
        kernels = [e for e in events if getattr(e.device_type, "name", "") == "CUDA"]
        busy = sum(e.device_time_total for e in kernels) / 1e6 if kernels else None
        self.profile = {
            "steps": steps,
            "kernels_per_step": len(kernels) / steps if kernels else None,
            "cpu_ops_per_step": sum(1 for e in events if getattr(e.device_type, "name", "") == "CPU") / steps,
            "gpu_busy_fraction": busy / wall if busy is not None and wall else None,
            "step_s": wall / steps,
            "gpu_s_per_step": busy / steps if busy is not None else None,
        }

    def summary(self, spec, full_steps: int, space: Space, val_rows: int, test_rows: int) -> dict:
        """Medians, spread, throughput, MFU and the whole spec's extrapolated wall time."""
        self.handle.remove()
        warm, rule = self._warm(), "after warm-up, none with a new padded width"
        cold_excess = [s for s in self.steps if s.cold and not s.profiled]
        if len(warm) < 3:  # every step brought a new width (accumulation over varied lengths)
            warm = [s for s in self.steps[self.warmup :] if not s.profiled]
            cold_excess, rule = [s for s in self.steps[: self.warmup] if not s.profiled], "after warm-up"
        if len(warm) < 3:
            return {"error": f"only {len(warm)} steps after warm-up were timed", "steps_timed": len(warm)}
        third = len(warm) // 3
        windows = [warm[i * third : (i + 1) * third] for i in range(3)]
        medians = [statistics.median(s.seconds for s in w) for w in windows]
        step_s = statistics.median(medians)
        rows = statistics.mean(sum(r for r, _, _ in s.shapes) for s in warm)
        real = statistics.mean(sum(t for _, _, t in s.shapes) for s in warm)
        padded = statistics.mean(sum(r * w for r, w, _ in s.shapes) for s in warm)
        flops = peak_flops()
        evals = [e for e in self.evals if e.get("runtime")]
        eval_s = statistics.median(e["runtime"] for e in evals) if evals else None
        eval_rate = statistics.median(e["samples_per_second"] for e in evals) if evals else None
        save_s = statistics.median(self.saves) if self.saves else None
        excess = sum(max(0.0, s.seconds - step_s) for s in cold_excess)
        t = spec.trainer
        n_evals = _count(t.eval_strategy, full_steps, t.eval_steps, t.epochs)
        n_saves = _count(t.save_strategy, full_steps, t.save_steps, t.epochs)
        wall = None
        if eval_s is not None and save_s is not None:
            final = (val_rows + test_rows) / eval_rate if eval_rate else 0.0
            wall = full_steps * step_s + n_evals * eval_s + n_saves * save_s + final + excess
        eval_real = self.eval_tokens[0] / max(1, len(evals)) if evals else None
        return {
            "steps_timed": len(warm),
            "timed": rule,
            "steps_cold": len(cold_excess),
            "distinct_widths": len(self.widths),
            "step_s": step_s,
            "step_spread": (max(medians) - min(medians)) / step_s,
            "window_medians_s": medians,
            "train_samples_per_s": rows / step_s,
            "real_tokens_per_step": real,
            "padded_tokens_per_step": padded,
            "mfu_real": space.flops_per_token * real / step_s / flops if flops else None,
            "mfu_padded": space.flops_per_token * padded / step_s / flops if flops else None,
            "evaluations": len(evals),
            "eval_s": eval_s,
            "eval_samples_per_s": eval_rate,
            "eval_mfu": (space.flops_per_token / 2) * eval_real / eval_s / flops
            if flops and eval_s
            else None,
            "saves": len(self.saves),
            "save_s": save_s,
            "first_shape_excess_s": excess,
            "profile": self.profile,
            "spec_steps": full_steps,
            "spec_evaluations": n_evals,
            "spec_saves": n_saves,
            "spec_wall_s": wall,
        }


def _count(strategy: str, steps: int, every: int | None, epochs: float) -> int:
    if strategy == "steps" and every:
        return steps // every
    if strategy == "epoch":
        return int(epochs)
    return 0


def pad_to_max_length(dataset, tokenizer, max_length: int):
    """The notebook's tokenisation: every row padded to max_length."""
    pad = tokenizer.pad_token_id

    def pad_row(row):
        missing = max_length - len(row["input_ids"])
        return {
            "input_ids": row["input_ids"] + [pad] * missing,
            "attention_mask": row["attention_mask"] + [0] * missing,
        }

    return dataset.map(pad_row, desc="padding to max_length")


# numerical checks ----------------------------------------------------------------------------------


@contextmanager
def transformers_restored():
    """Put back what an arm replaced in transformers' modeling modules: Liger swaps their norm and
    MLP classes and rotary function for the whole process, and the next workload's model must be
    built as the user's would be."""
    import sys

    modules = [m for n, m in list(sys.modules.items()) if n.startswith("transformers.models.") and m]
    saved = [(m, dict(vars(m))) for m in modules]
    try:
        yield
    finally:
        for module, names in saved:
            for name, value in names.items():
                if vars(module).get(name) is not value:
                    setattr(module, name, value)


def warm_up(compiled, parts, rows: int, precision: str) -> dict:
    """Before the first arm: one forward and backward of `rows` training rows at every padded width
    the training split produces, and one evaluation of the validation split. What lives for the
    process (the allocator's blocks, kernel choices, oneDNN primitives on a CPU) is then filled
    before the default arm, which runs first, so it pays no more than the arms after it."""
    import numpy as np

    from peftspec.build.predict import predict

    started = time.perf_counter()
    model, train = parts.model, parts.datasets["train"]
    lengths = np.array([len(ids) for ids in train["input_ids"]])
    multiple = getattr(parts.collator, "pad_to_multiple_of", None) or 1
    widths = sorted({-(-int(n) // multiple) * multiple for n in lengths})
    order = np.argsort(lengths, kind="stable")
    device = next(model.parameters()).device
    for width in widths:  # the longest `rows` rows that pad to this width
        picked = order[lengths[order] <= width][-rows:]
        batch = fixed_batch(train.select(picked.tolist()), parts.collator, rows, device)
        forward_backward(model, batch, precision)
    settings = compiled.settings
    predict(
        model, parts.datasets["validation"], parts.collator, settings.eval_batch_size, settings.task,
        precision=precision, training=True,
    )  # fmt: skip
    return {"widths": len(widths), "rows": rows, "seconds": round(time.perf_counter() - started, 2)}


def fixed_batch(dataset, collate, rows: int, device):
    picked = [dataset[i] for i in range(min(rows, len(dataset)))]
    return {k: v.to(device) for k, v in collate(picked).items()}


def forward_backward(model, batch, precision: str):
    """(logits, loss, the trainable parameters' gradients as one vector), dropout off."""
    import contextlib

    import torch

    from peftspec.build.predict import keep_4bit_weights_trainable

    model.eval()
    keep_4bit_weights_trainable(model)  # the CPU 4-bit layers must stay trainable for the arms
    model.zero_grad(set_to_none=True)
    device = next(model.parameters()).device
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16)
        if precision == "bf16" and device.type == "cuda"
        else contextlib.nullcontext()
    )
    with autocast:
        out = model(**batch)
    out.loss.backward()
    grads = torch.cat([p.grad.float().flatten() for p in model.parameters() if p.grad is not None])
    model.zero_grad(set_to_none=True)
    return out.logits.detach().float(), out.loss.detach().float(), grads


def compare(reference, candidate) -> dict:
    """The issue's check: loss and logits within 1e-2 relative, gradient cosine > 0.999."""
    import torch

    (la, lossa, ga), (lb, lossb, gb) = reference, candidate
    logits_rel = float((la - lb).abs().max() / la.abs().max().clamp_min(1e-12))
    loss_rel = float((lossa - lossb).abs() / lossa.abs().clamp_min(1e-12))
    cosine = float(torch.nn.functional.cosine_similarity(ga, gb, dim=0))
    return {
        "logits_max_rel": logits_rel,
        "loss_rel": loss_rel,
        "grad_cosine": cosine,
        "passed": logits_rel <= 1e-2 and loss_rel <= 1e-2 and cosine > 0.999,
    }


def numerical_checks(compiled, parts, precision: str) -> dict:
    """Evaluation loop, micro-batch cut and fused AdamW against what they replace, on the workload's
    own model and rows (the compile check runs in its arm, since compiling changes the model)."""
    import torch

    from peftspec.build.predict import keep_4bit_weights_trainable, predict

    model, collate = parts.model, parts.collator
    device = next(model.parameters()).device
    val = parts.datasets["validation"]
    sub = val.select(range(min(256, len(val))))
    checks = {}
    # evaluation: peftspec's sorted loop against batches in data order (the Trainer's order)
    settings = compiled.settings
    ours = predict(
        model, sub, collate, settings.eval_batch_size, settings.task, precision=precision, training=True
    )
    plain = []
    model.eval()
    keep_4bit_weights_trainable(model)  # the model trains on in the arms
    with torch.no_grad():
        for first in range(0, len(sub), 8):
            batch = fixed_batch(sub.select(range(first, min(first + 8, len(sub)))), collate, 8, device)
            batch.pop("labels")
            with torch.autocast(
                device.type, dtype=torch.bfloat16, enabled=precision == "bf16" and device.type == "cuda"
            ):
                plain.append(model(**batch).logits.float().cpu())
    plain = torch.cat(plain)
    ours_t = torch.from_numpy(ours.logits)
    rel = float((plain - ours_t).abs().max() / plain.abs().max().clamp_min(1e-12))
    checks["evaluation_loop"] = {"logits_max_rel": rel, "passed": rel <= 1e-2}
    # micro-batch: one pass over E rows against E/m passes of m rows, gradients averaged
    train = parts.datasets["train"]
    effective = 16 if device.type == "cpu" else 64
    whole = fixed_batch(train, collate, effective, device)
    reference = forward_backward(model, whole, precision)
    grads, losses, logits = [], [], []
    for first in range(0, effective, effective // 8):
        part = {k: v[first : first + effective // 8] for k, v in whole.items()}
        l_, loss_, g_ = forward_backward(model, part, precision)
        grads.append(g_), losses.append(loss_), logits.append(l_)
    cut = (torch.cat(logits), torch.stack(losses).mean(), torch.stack(grads).mean(0))
    checks["micro_batch"] = compare(reference, cut)
    checks["micro_batch"]["cut"] = f"{effective} x 1 against {effective // 8} x 8"
    # fused AdamW: one step from the same weights and gradients
    trainable = [p for p in model.parameters() if p.requires_grad]
    after = {}
    for fused in (False, True):
        copies = [p.detach().clone().requires_grad_(True) for p in trainable]
        for c, g in zip(copies, _split(reference[2], trainable)):
            c.grad = g.to(c.dtype)
        optimizer = torch.optim.AdamW(copies, lr=1e-4, weight_decay=0.1, fused=fused, foreach=not fused)
        optimizer.step()
        after[fused] = torch.cat([c.detach().float().flatten() for c in copies])
    difference = float((after[True] - after[False]).abs().max())
    checks["fused_adamw"] = {"max_abs_difference": difference, "passed": difference < 1e-5}
    return checks


def _split(vector, params):
    out, at = [], 0
    for p in params:
        out.append(vector[at : at + p.numel()].view_as(p))
        at += p.numel()
    return out


def packed_evaluation(compiled, parts, precision: str) -> dict:
    """Evaluation of the validation split with padded batches against padding-free packed batches
    (`peftspec.build.packing`): both through peftspec's `predict` (length-sorted, the same rows per
    batch, autocast at the run's precision), each timed after a warm-up pass; the logits must
    agree within 1e-2 relative."""
    import numpy as np

    from peftspec.build.packing import pack, packed_logits
    from peftspec.build.predict import predict

    model, settings = parts.model, compiled.settings
    val = parts.datasets["validation"]
    ways = {
        "padded": {"collate": parts.collator},
        "packed": {"collate": pack, "forward": lambda batch: packed_logits(model, batch, parts.pooling)},
    }
    results = {}
    for name, way in ways.items():
        for _ in range(2):  # the first pass warms every width up; the second is timed
            results[name] = predict(
                model, val, batch_size=settings.eval_batch_size, task=settings.task,
                precision=precision, training=True, **way,
            )  # fmt: skip
    reference, packed = results["padded"].logits, results["packed"].logits
    rel = float(np.abs(reference - packed).max() / max(np.abs(reference).max(), 1e-12))
    return {
        "rows": len(val),
        "padded_samples_per_s": results["padded"].samples_per_second,
        "packed_samples_per_s": results["packed"].samples_per_second,
        "packed_over_padded_speed": results["padded"].runtime / results["packed"].runtime,
        "logits_max_rel": rel,
        "passed": rel <= 1e-2,
    }

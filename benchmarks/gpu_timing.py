"""Timing the arms: a Trainer callback that times every optimizer step, evaluation and save, and
what the timings say (medians, spread, MFU, the whole spec's wall time)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from gpu_workspace import Space
from transformers import TrainerCallback

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}


def peak_flops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)


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

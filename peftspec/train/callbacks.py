"""Trainer callbacks: record every log and evaluation in the run directory, show progress, feed W&B."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback

from peftspec.errors import UserError
from peftspec.metrics.computer import MetricComputer
from peftspec.runs.layout import RunPaths, utc_now
from peftspec.runs.writer import RunWriter

Record = dict[str, Any]


class TrainingDiverged(UserError):
    """The training loss stopped being a number: nothing after this step can be trusted."""

    title = "Training diverged"

    def __init__(self, step: int, loss: float, event: str = "train"):
        self.step = step
        what = "training loss" if event == "train" else "validation loss"
        super().__init__(
            f"the {what} is not finite ({loss}) at step {step}",
            hint="lower trainer.learning_rate, or train in bf16/fp32 (trainer.precision, backbone.dtype)",
        )


HEARTBEAT_EVERY_S = 15.0
_TRAIN_END_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss")


def to_record(logs: dict[str, Any], step: int) -> Record:
    """One HF `logs` dict as a metrics.jsonl record: `train`, `eval` or `train_end`."""
    epoch = logs.get("epoch")
    if any(k.startswith("eval_") for k in logs):
        values = {k.removeprefix("eval_"): v for k, v in logs.items() if k.startswith("eval_")}
        return {"event": "eval", "split": "validation", "step": step, "epoch": epoch, **values}
    if any(k in logs for k in _TRAIN_END_KEYS):
        values = {k.removeprefix("train_"): v for k, v in logs.items() if k != "epoch"}
        return {"event": "train_end", "step": step, "epoch": epoch, **values}
    return {"event": "train", "step": step, "epoch": epoch, **{k: v for k, v in logs.items() if k != "epoch"}}


class RunRecorder(TrainerCallback):
    """Appends each log to metrics.jsonl (flushed), keeps the heartbeat fresh, and fans records out."""

    def __init__(
        self,
        writer: RunWriter | None,
        computer: MetricComputer,
        sinks: list[Callable[[Record], None]] | None = None,
    ):
        self.writer, self.computer, self.sinks = writer, computer, list(sinks or [])
        self._beat = 0.0

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        record = to_record(logs, state.global_step)
        if record["event"] == "eval":
            record.update(self.computer.last_details)
        if self.writer is not None:
            self.writer.log(record)
        for sink in self.sinks:
            sink(record)
        loss = record.get("loss")
        if record["event"] in ("train", "eval") and isinstance(loss, float) and not math.isfinite(loss):
            raise TrainingDiverged(state.global_step, loss, record["event"])

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        if self.writer is not None and now - self._beat > HEARTBEAT_EVERY_S and state.is_world_process_zero:
            self._beat = now
            self.writer.update(
                heartbeat_at=utc_now().isoformat(), step=state.global_step, max_steps=state.max_steps
            )


class ProgressDisplay(TrainerCallback):
    """A progress bar with ETA, live loss and the latest evaluation."""

    def __init__(self, console, watch_metric: str | None):
        self.console, self.watch = console, watch_metric
        self.progress = None
        self.task = None
        self.status = ""

    def on_train_begin(self, args, state, control, **kwargs):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.table import Column

        # the counts and times keep their width; the status takes what is left and is cut short
        # with an ellipsis in a narrow terminal (each evaluation is also printed on a line of its own)
        status = Column(no_wrap=True, overflow="ellipsis", ratio=1)
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(compact=True),
            TextColumn("{task.fields[status]}", table_column=status),
            console=self.console,
            transient=False,
            expand=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=state.max_steps, status="")

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, status=self.status)

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, status=self.status)
            self.progress.stop()
            self.progress = None

    def __call__(self, record: Record) -> None:
        if record["event"] == "train" and "loss" in record:
            self._loss = f"loss {record['loss']:.4f}"
            self.status = self._loss + getattr(self, "_eval", "")
        elif record["event"] == "eval":
            value = record.get(self.watch) if self.watch else None
            shown = f" · {self.watch} {value:.4f}" if isinstance(value, float) else ""
            self._eval = f" · eval loss {record.get('loss', float('nan')):.4f}{shown}"
            # before the first logged training loss the status is the evaluation alone
            self.status = (getattr(self, "_loss", "") + self._eval).removeprefix(" · ")
            if self.progress is not None:
                self.progress.console.print(
                    f"step {record['step']}: eval loss {record.get('loss', 0):.4f}{shown}", highlight=False
                )
                self._health(record)

    def _health(self, record: Record) -> None:
        """Say it when the predictions stop depending on the input (once until it changes)."""
        warnings = (record.get("health") or {}).get("warnings") or []
        if warnings != getattr(self, "_warned", []):
            for warning in warnings:
                self.progress.console.print(f"[yellow]warning[/]: {warning}", highlight=False)
            self._warned = warnings


class WandbSink:
    """Sends each record's scalar values to W&B under `train/...`, `eval/...`."""

    def __init__(self, run):
        self.run = run

    def __call__(self, record: Record) -> None:
        prefix = {"train": "train", "eval": "eval", "train_end": "train", "final": "final"}.get(
            record["event"]
        )
        if prefix is None:
            return
        scalars = {
            f"{prefix}/{k}": v
            for k, v in record.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k not in ("step",)
        }
        self.run.log(scalars, step=int(record.get("step") or 0))


class CheckpointMarker(TrainerCallback):
    """Marks each checkpoint complete once the Trainer has written all of it (see runs.checkpoints)."""

    def __init__(self, paths: RunPaths):
        self.paths = paths

    def on_save(self, args, state, control, **kwargs):
        from peftspec.runs.checkpoints import mark_complete
        from peftspec.train.faults import maybe_fault

        if not state.is_world_process_zero:
            return
        maybe_fault("save", state.global_step)
        folder = self.paths.checkpoint(state.global_step)
        if folder.is_dir():
            mark_complete(folder, state.global_step)


class CompileTimer(TrainerCallback):
    """With `trainer.torch_compile`: what compiling cost, from the first optimizer steps. The first
    step compiles (a new padded width may add a little later), so its excess over the median of
    the next `STEPS - 1` steps is the compile time; it goes to metrics.jsonl (`event: compile`) and
    to the console."""

    STEPS = 5

    def __init__(self, writer: RunWriter | None, console, what: str):
        self.writer, self.console, self.what = writer, console, what
        self.times: list[float] = []

    def _now(self) -> float:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_step_begin(self, args, state, control, **kwargs):
        if len(self.times) < self.STEPS:
            self._started = self._now()

    def on_step_end(self, args, state, control, **kwargs):
        if len(self.times) >= self.STEPS:
            return
        self.times.append(self._now() - self._started)
        if len(self.times) == self.STEPS and state.is_world_process_zero:
            later = sorted(self.times[1:])[len(self.times[1:]) // 2]
            record = {
                "event": "compile",
                "step": state.global_step,
                "first_step_s": round(self.times[0], 3),
                "later_step_s": round(later, 4),
                "compile_s": round(max(0.0, self.times[0] - later), 3),
            }
            if self.writer is not None:
                self.writer.log(record)
            self.console.print(
                f"torch.compile ({self.what}): the first step took {record['first_step_s']:.1f} s, "
                f"the next ones {record['later_step_s']:.3f} s: about {record['compile_s']:.1f} s compiling"
            )

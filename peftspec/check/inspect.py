"""Inspect the toy run's directory: did each part of the record get written, and does the saved
adapter reload to the recorded predictions?"""

from __future__ import annotations

import json
import math
from pathlib import Path

from peftspec.check.result import SpecCheck
from peftspec.spec.root import Spec

RELOAD_TOLERANCE = 1e-4


def inspect_run(root: Path, spec: Spec, result: SpecCheck, at) -> None:
    from peftspec.runs.reader import read_run

    run = read_run(root)
    record = run.record
    if run.status != "completed":
        error = (record.error.message if record.error else None) or ""
        result.add("training", "failed", f"the run ended {run.status}: {error}")
        return
    records = run.metrics()
    step = diverged_at(records)
    if step is not None:
        diverged(step, spec, result, at)
        return
    losses = [r["loss"] for r in records if r.get("event") == "train" and "loss" in r]
    trend = f", loss {losses[0]:.4f} -> {losses[-1]:.4f}" if losses else ""
    result.add("training", "passed", f"{record.steps} steps{trend}")
    if record.overview is not None and record.overview.pooling:
        result.add("pooling", "passed", record.overview.pooling)
    _metrics(run, spec, result)
    _checkpoints(run, spec, result)
    _reload(run, result)


def diverged_at(records: list[dict]) -> int | None:
    """The first step whose gradient norm or evaluation loss is not finite (NaN is stored as null)."""
    for r in records:
        value = r.get("grad_norm", 0.0) if r.get("event") == "train" else r.get("loss", 0.0)
        if r.get("event") in ("train", "eval") and (value is None or not math.isfinite(value)):
            return r.get("step")
    return None


def diverged(step: int, spec: Spec, result: SpecCheck, at) -> None:
    config = json.loads((Path(spec.backbone.model) / "config.json").read_text(encoding="utf-8"))
    weights = (
        spec.backbone.dtype
        if spec.backbone.dtype != "auto"
        else config.get("dtype") or config.get("torch_dtype")
    )
    message = f"training diverged: the loss or its gradient is not finite from step {step}"
    diagnostics = []
    if weights == "float16" and spec.trainer.precision != "fp16":
        message += (
            "; the backbone's weights are float16 (the checkpoint's dtype, as backbone.dtype = \"auto\" "
            "keeps it) and the trained head overflows outside fp16 mixed precision: "
            'set backbone.dtype = "bfloat16" (or "float32")'
        )
        diagnostics.append(at.error(("backbone", "dtype"), "float16-training", message, "bfloat16"))
    result.add("training", "failed", message, diagnostics)


def _metrics(run, spec: Spec, result: SpecCheck) -> None:
    evaluation = run.eval() or {}
    splits = [s for s in ("validation", "test") if s in evaluation]
    wanted = [m for m in spec.metrics.names or []]
    missing = [m for s in splits for m in wanted if m not in evaluation[s]]
    if not splits or missing:
        detail = f"not computed: {', '.join(sorted(set(missing)))}" if missing else "no split was evaluated"
        result.add("metrics", "failed", detail)
        return
    result.add("metrics", "passed", f"{', '.join(wanted)} on {' and '.join(splits)}")


def _checkpoints(run, spec: Spec, result: SpecCheck) -> None:
    from peftspec.runs.checkpoints import checkpoint_folders

    saved = sorted(folder.name for _, folder in checkpoint_folders(run.paths.checkpoints))
    best = run.record.best
    if spec.trainer.eval_strategy != "no" and (best is None or best.step is None):
        metric = best.metric if best else spec.trainer.best_metric
        result.add("best checkpoint", "failed", f"no best checkpoint chosen by {metric}")
        return
    if not saved:
        result.add("best checkpoint", "failed", "no checkpoint was written")
        return
    chosen = f"; best by {best.metric} at step {best.step}" if best and best.step is not None else ""
    result.add("best checkpoint", "passed", f"{', '.join(saved)} written{chosen}")


def _reload(run, result: SpecCheck) -> None:
    import numpy as np

    from peftspec.inference.loaded import load_run

    frame = run.predictions()
    if frame is None or frame.height == 0:
        result.add("save and reload", "failed", "no predictions were saved to compare against")
        return
    # the whole split, as it was predicted (same batches): bf16 scores depend on how rows are padded
    first = frame.filter(frame["split"] == frame["split"][0])
    pairs = first["pair"].to_list() if "pair" in first.columns else None
    loaded = load_run(run.path).predict(first["text"].to_list(), pairs)
    drift = float(np.max(np.abs(np.asarray(loaded.scores) - np.asarray(first["scores"].to_list()))))
    status = "passed" if drift <= RELOAD_TOLERANCE else "failed"
    result.add(
        "save and reload", status, f"the saved model reloads; its scores differ by {drift:.1e} at most"
    )

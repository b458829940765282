"""Run directories written through `peftspec.runs` with made-up but consistent numbers (no training)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peftspec.runs.layout import RunPaths
from peftspec.runs.writer import RunWriter

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ML_LABELS = ["anger", "joy", "fear [r=8]"]  # a bracket, as real label names can have
MC_LABELS = ["neg", "neu", "pos"]
SEMEVAL_LABELS = "anger anticipation disgust fear joy love optimism pessimism sadness surprise trust".split()  # noqa: SIM905
"""The 11 emotions of SemEval-2018 E-c, in the data's column order."""


def _scores(task: str, q: float) -> dict[str, float]:
    """Scalar metrics derived from one quality figure, consistent between log and eval.json."""
    if task == "multi_label":
        return {
            "f1_micro": q + 0.05,
            "f1_macro": q,
            "f1_weighted": q + 0.02,
            "subset_accuracy": q / 2,
            "jaccard": q * 0.8,
        }
    return {"accuracy": q + 0.1, "f1_micro": q + 0.1, "f1_macro": q, "f1_weighted": q + 0.05}


def _spread(q: float, n: int) -> list[float]:
    """Per-label figures around `q`: q, q + 0.1, q - 0.1, q + 0.05, ..."""
    return [q + (0.1, -0.1, 0.05, -0.05)[(i - 1) % 4] if i else q for i in range(n)]


def _per_label(labels, f1s):
    return {
        n: {"precision": f, "recall": f, "f1": f, "support": 10 + i}
        for i, (n, f) in enumerate(zip(labels, f1s))
    }


def write_run(
    root: Path,
    name: str,
    *,
    task: str = "multi_label",
    status: str = "completed",
    quality: float = 0.5,
    steps: int = 40,
    eval_every: int = 10,
    adapter: str = "lora",
    quantization: str = "none",
    truncate_log: bool = False,
    start: datetime = START,
    heartbeat: datetime | None = None,
    labels: list[str] | None = None,
) -> Path:
    """A run directory as `peftspec run` leaves it; `quality` scales every score."""
    paths = RunPaths(root / name)
    paths.root.mkdir(parents=True)
    labels = labels or (ML_LABELS if task == "multi_label" else MC_LABELS)
    writer = RunWriter(paths)
    for step in range(2, steps + 1, 2):
        writer.log(
            {
                "event": "train",
                "step": step,
                "epoch": step / 20,
                "loss": 0.7 * math.exp(-step / 30) + 0.1,
                "learning_rate": 1e-3 * (1 - step / steps),
                "grad_norm": 0.3,
            }
        )
        if step % eval_every == 0:
            score = quality * (0.6 + 0.4 * step / steps)
            metrics = _scores(task, score)
            writer.log(
                {
                    "event": "eval",
                    "split": "validation",
                    "step": step,
                    "epoch": step / 20,
                    "loss": 0.6 - 0.2 * step / steps,
                    **metrics,
                    "per_label": _per_label(labels, _spread(score, len(labels))),
                }
            )
    final_metrics = {}
    if status == "completed":
        writer.log(
            {"event": "train_end", "step": steps, "runtime": 100.0, "samples_per_second": 50.0, "loss": 0.3}
        )
        final_metrics = _final(writer, paths, task, labels, quality, steps)
    writer.close()
    ended = start + timedelta(minutes=5)
    info = {
        "run": name,
        "name": name.rsplit("-", 1)[0],
        "status": status,
        "started_at": start.isoformat(),
        "heartbeat_at": (heartbeat or ended).isoformat(),
        "backbone": "tiny/model",
        "adapter": adapter,
        "quantization": quantization,
        "task": task,
        "labels": labels,
        "rows": {"train": 80, "validation": 20},
        "seed": 42,
        "precision": "fp32",
        "versions": {"python": "3.11", "torch": "2.x"},
        "device": {"type": "cpu"},
        "overview": {
            "adapter": f"{adapter} on q_proj, v_proj",
            "trainable_parameters": 1000 + int(quality * 100),
            "total_parameters": 100_000,
            "device": "cpu (2 threads)",
        },
        "model": {"architecture": "BertForSequenceClassification", "wrapped_modules": ["q_proj", "v_proj"]},
        "steps": steps,
    }
    if status != "running":
        info.update(ended_at=ended.isoformat(), duration_s=300.0)
    if status == "completed":
        info["best"] = {
            "metric": "f1_macro",
            "value": final_metrics["validation"]["f1_macro"],
            "step": steps,
            "checkpoint": f"checkpoints/checkpoint-{steps}",
        }
    if status == "failed":
        info["error"] = {"type": "RuntimeError", "message": "CUDA out of memory [fake]"}
    writer.update(**info)
    paths.spec.write_text(
        f'name = "{info["name"]}"\n[dataset]\ntrain = ["/data/train.csv"]\nmax_length = 64\ntask = "{task}"\n'
        f'[backbone]\nmodel = "tiny/model"\n[adapter]\nkind = "{adapter}"\n'
        f"r = {8 if adapter == 'lora' else 4}\n"
        f'[quantization]\nmethod = "{quantization}"\n[trainer]\nlearning_rate = {1e-3 * (1 + quality):.4g}\n'
        f"epochs = 2.0\nbatch_size = 16\n"
    )
    if truncate_log:
        with open(paths.metrics, "a") as fh:
            fh.write('{"event": "train", "step": 99, "lo')
    return paths.root


def _final(
    writer: RunWriter, paths: RunPaths, task: str, labels: list[str], quality: float, steps: int
) -> dict:
    final = {}
    for split, shift in (("validation", 0.0), ("test", -0.02)):
        q = quality + shift
        metrics = _scores(task, q)
        final[split] = {
            "loss": 0.4 - q / 10,
            "runtime": 1.0,
            "samples_per_second": 200.0 + 100 * quality,
            **metrics,
            "per_label": _per_label(labels, _spread(q, len(labels))),
        }
        writer.log({"event": "final", "split": split, "step": steps, **final[split]})
    thresholds = (
        {"mode": "fixed", "values": dict.fromkeys(labels, 0.5)}
        if task == "multi_label"
        else {"mode": "argmax", "values": None}
    )
    if task == "multi_label":
        confusion = {
            s: {
                "kind": "per_label",
                "labels": labels,
                "layout": "[[tn, fp], [fn, tp]]",
                "matrices": {n: [[12, 2 + i], [3, 5 + i]] for i, n in enumerate(labels)},
            }
            for s in final
        }
    else:
        confusion = {
            s: {
                "kind": "matrix",
                "labels": labels,
                "layout": "rows = gold, columns = predicted",
                "matrix": [[7, 2, 1], [1, 6, 3], [0, 2, 8]]
                if len(labels) == 3
                else [
                    [40 + 3 * i if i == j else (i * 7 + j * 3) % 5 for j in range(len(labels))]
                    for i in range(len(labels))
                ],
            }
            for s in final
        }
    writer.write_results({"thresholds": thresholds, **final}, confusion, thresholds, None)
    return final


def _confusion_matrix(n: int) -> list[list[int]]:
    """A diagonal-heavy n x n matrix of counts."""
    return [[40 + 3 * i if i == j else (i * 7 + j * 3) % 5 for j in range(n)] for i in range(n)]


def write_fixture_root(root: Path) -> dict[str, Path]:
    """Completed multi-label and multi-class runs, a running one, a failed one, a truncated log."""
    return {
        "lora": write_run(root, "ml-lora-20260301T120000Z", quality=0.55),
        "ia3": write_run(
            root, "ml-ia3-20260301T130000Z", adapter="ia3", quality=0.45, start=START + timedelta(hours=1)
        ),
        "qlora": write_run(
            root,
            "ml-qlora-20260301T140000Z",
            quantization="bnb-4bit",
            quality=0.6,
            start=START + timedelta(hours=2),
        ),
        "multiclass": write_run(
            root, "mc-lora-20260302T120000Z", task="multi_class", quality=0.7, start=START + timedelta(days=1)
        ),
        "running": write_run(
            root,
            "ml-live-20260303T120000Z",
            status="running",
            steps=20,
            start=datetime.now(UTC),
            heartbeat=datetime.now(UTC),
        ),
        "failed": write_run(
            root, "ml-oom-20260304T120000Z", status="failed", steps=10, start=START + timedelta(days=3)
        ),
        "truncated": write_run(
            root, "ml-trunc-20260305T120000Z", truncate_log=True, quality=0.5, start=START + timedelta(days=4)
        ),
    }


def write_run_with_predictions(
    root: Path, name: str, quality: float, seed: int, texts: list[str] = ("some text",)
) -> Path:
    """A fixture multi-label run with test predictions: the same 40 rows (texts cycled from
    `texts`) for every run, scored the better the higher `quality`, the noise drawn from `seed`."""
    import numpy as np

    from peftspec.metrics.evaluation import prediction_rows

    path = write_run(root, name, quality=quality)
    gold = (np.random.default_rng(0).random((40, len(ML_LABELS))) < 0.4).astype(int)
    noise = np.random.default_rng(seed).random(gold.shape)
    scores = np.clip(0.5 + (gold - 0.5) * quality + (noise - 0.5) * 0.8, 0, 1)
    rows = prediction_rows(
        "test",
        [f"r{i}" for i in range(40)],
        [texts[i % len(texts)] for i in range(40)],
        gold,
        scores,
        (scores >= 0.5).astype(int),
        ML_LABELS,
    )
    rows.write_parquet(RunPaths(path).predictions)
    _record_per_label(path, gold, (scores >= 0.5).astype(int))
    return path


def _record_per_label(path: Path, gold, pred) -> None:
    """The test split's per-label figures in eval.json, as a run computes them from its decisions."""
    import json

    import numpy as np

    tp, fp, fn = ((gold * pred).sum(0), ((1 - gold) * pred).sum(0), (gold * (1 - pred)).sum(0))
    file = RunPaths(path).eval
    recorded = json.loads(file.read_text())
    recorded["test"]["per_label"] = {
        label: {
            "precision": float(tp[j] / max(tp[j] + fp[j], 1)),
            "recall": float(tp[j] / max(tp[j] + fn[j], 1)),
            "f1": float(2 * tp[j] / max(2 * tp[j] + fp[j] + fn[j], 1)),
            "support": int(np.asarray(gold)[:, j].sum()),
        }
        for j, label in enumerate(ML_LABELS)
    }
    file.write_text(json.dumps(recorded))

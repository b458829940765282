"""What the TUI shows, read from run directories (through `peftspec.runs`, never torch)."""

from __future__ import annotations

import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from peftspec.runs import Run, read_run
from peftspec.runs.layout import RUN_JSON
from peftspec.runs.reader import read_jsonl

KEY_METRICS = ["f1_micro", "f1_macro", "accuracy", "jaccard"]


@dataclass
class RunRow:
    """One line of the runs table."""

    path: Path
    name: str
    status: str
    backbone: str
    adapter: str
    quantization: str
    started: str
    duration_s: float | None
    best: dict[str, float | None]

    def value(self, key: str) -> Any:
        return self.best.get(key) if key in KEY_METRICS else getattr(self, key, None)


def run_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        Path(e.path)
        for e in os.scandir(root)
        if e.is_dir()
        and (
            os.path.exists(os.path.join(e.path, RUN_JSON))
            or os.path.exists(os.path.join(e.path, "metrics.jsonl"))
        )
    )


def load_row(path: Path) -> RunRow:
    run = read_run(path)
    info = run.info
    best = _best_from_eval(run) or _best_from_log(run)
    return RunRow(
        path,
        run.name,
        run.status,
        str(info.get("backbone", "-")),
        str(info.get("adapter", "-")),
        str(info.get("quantization", "-")),
        _short_time(info.get("started_at")),
        info.get("duration_s"),
        best,
    )


def _best_from_eval(run: Run) -> dict[str, float | None]:
    validation = (run.eval() or {}).get("validation") or {}
    metrics = {
        k: validation.get("subset_accuracy" if k == "accuracy" and "accuracy" not in validation else k)
        for k in KEY_METRICS
    }
    return metrics if any(v is not None for v in metrics.values()) else {}


def _best_from_log(run: Run) -> dict[str, float | None]:
    evals = [r for r in run.metrics() if r.get("event") == "eval"]
    out: dict[str, float | None] = {}
    for key in KEY_METRICS:
        source = "subset_accuracy" if key == "accuracy" else key
        values = [r.get(key, r.get(source)) for r in evals]
        values = [v for v in values if isinstance(v, int | float)]
        out[key] = max(values) if values else None
    return out


def _short_time(stamp: str | None) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return "-"


def duration_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


@dataclass
class RunDetail:
    """Everything the run screen shows; `offset` is where metrics.jsonl was read up to."""

    run: Run
    records: list[dict[str, Any]] = field(default_factory=list)
    offset: int = 0

    @property
    def evals(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("event") == "eval"]

    @property
    def train(self) -> list[dict[str, Any]]:
        return [
            r for r in self.records if r.get("event") == "train" and isinstance(r.get("loss"), int | float)
        ]

    def tail(self) -> list[dict[str, Any]]:
        """Records appended since the last read (a partial last line waits for the next call)."""
        chunk = read_jsonl(self.run.paths.metrics, self.offset)
        self.offset = chunk.offset
        self.records += chunk.records
        return chunk.records

    def evaluations(self) -> dict[str, Any]:
        """eval.json plus every `peftspec evaluate` result (`eval-<name>.json`), by split name."""
        from peftspec.report.summary import extra_evaluations

        return {**extra_evaluations(self.run), **(self.run.eval() or {})}

    def confusions(self) -> dict[str, Any]:
        out = {}
        for path in sorted(self.run.path.glob("confusion-*.json")):
            try:
                out.update(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                self.run.warnings.append(f"{path.name}: unreadable")
        return {**out, **(self.run.confusion() or {})}

    def splits(self) -> list[str]:
        names = [k for k, v in self.evaluations().items() if isinstance(v, dict) and k != "thresholds"]
        return sorted(names, key=lambda n: (n != "validation", n != "test", n))

    def spec(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.run.spec_text() or "")
        except tomllib.TOMLDecodeError:
            return {}


def load_detail(path: Path) -> RunDetail:
    detail = RunDetail(read_run(path))
    detail.tail()
    return detail


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = json.dumps(value) if isinstance(value, list | str) else str(value)
    return out


def config_diff(specs: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Keys whose values differ between the specs, with each spec's value ("-" when unset)."""
    flat = [flatten(s) for s in specs]
    keys = sorted(set().union(*flat))
    rows = []
    for key in keys:
        values = [f.get(key, "-") for f in flat]
        if len(set(values)) > 1:
            rows.append((key, values))
    return rows


def downsample(xs: list[float], ys: list[float], width: int) -> tuple[list[float], list[float]]:
    """At most `width` points, evenly spaced: redraws stay cheap however long the run."""
    if len(xs) <= width or width < 2:
        return xs, ys
    step = (len(xs) - 1) / (width - 1)
    picks = sorted({round(i * step) for i in range(width)})
    return [xs[i] for i in picks], [ys[i] for i in picks]

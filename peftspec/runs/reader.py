"""Reading run directories, tolerantly: a missing file is None, a damaged one is a warning.

Imports no torch, transformers or peft (the TUI and reports depend on it staying light).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from peftspec.runs.layout import RUN_JSON, RunPaths, utc_now

STALE_AFTER_S = 120.0
"""A run still marked running whose heartbeat is older than this is shown as crashed."""


@dataclass
class JsonlChunk:
    records: list[dict[str, Any]]
    offset: int
    """Byte offset up to which the file has been consumed (a partial last line is not)."""
    warnings: list[str] = field(default_factory=list)


def read_jsonl(path: Path, offset: int = 0) -> JsonlChunk:
    """Records appended to `path` since byte `offset`; a partial last line is held back."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return JsonlChunk([], offset)
    end = data.rfind(b"\n") + 1
    records, warnings = [], []
    for n, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            warnings.append(f"{path.name}: skipped an unreadable line (byte {offset}, line +{n})")
            continue
        if isinstance(record, dict):
            records.append(record)
    return JsonlChunk(records, offset + end, warnings)


def _read_json(path: Path, warnings: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        warnings.append(f"{path.name}: unreadable ({exc.__class__.__name__}: {exc})")
        return None


@dataclass
class Run:
    """One run directory as recorded on disk."""

    paths: RunPaths
    info: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.paths.root

    @property
    def name(self) -> str:
        return self.paths.name

    @property
    def status(self) -> str:
        """`running`, `completed`, `failed`, `interrupted`, or `crashed` (running, heartbeat stale)."""
        status = str(self.info.get("status", "unknown"))
        if status == "running" and self._heartbeat_age() > STALE_AFTER_S:
            return "crashed"
        return status

    def _heartbeat_age(self) -> float:
        stamp = self.info.get("heartbeat_at") or self.info.get("updated_at")
        try:
            return (utc_now() - datetime.fromisoformat(stamp)).total_seconds()
        except (TypeError, ValueError):
            return float("inf")

    def metrics(self) -> list[dict[str, Any]]:
        chunk = read_jsonl(self.paths.metrics)
        self.warnings += chunk.warnings
        return chunk.records

    def eval(self) -> dict[str, Any] | None:
        return _read_json(self.paths.eval, self.warnings)

    def confusion(self) -> dict[str, Any] | None:
        return _read_json(self.paths.confusion, self.warnings)

    def thresholds(self) -> dict[str, Any] | None:
        return _read_json(self.paths.thresholds, self.warnings)

    def spec_text(self) -> str | None:
        try:
            return self.paths.spec.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def predictions(self):
        """The saved predictions as a polars DataFrame (needs polars), or None."""
        if not self.paths.predictions.exists():
            return None
        import polars as pl

        return pl.read_parquet(self.paths.predictions)


def read_run(path: str | os.PathLike) -> Run:
    paths = RunPaths(Path(path))
    warnings: list[str] = []
    info = _read_json(paths.run_json, warnings)
    if info is None and not warnings:
        warnings.append(f"{RUN_JSON} missing")
    if not isinstance(info, dict):
        info = {}
    return Run(paths, info, warnings)


def list_runs(root: str | os.PathLike) -> list[Run]:
    """Every run directory directly under `root` (folders holding run.json or metrics.jsonl)."""
    base = Path(root)
    if not base.is_dir():
        return []
    runs = []
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        if entry.is_dir() and (
            os.path.exists(os.path.join(entry.path, RUN_JSON))
            or os.path.exists(os.path.join(entry.path, "metrics.jsonl"))
        ):
            runs.append(read_run(entry.path))
    return runs

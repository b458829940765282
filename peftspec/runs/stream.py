"""`metrics.jsonl`: the metric stream, read whole or tailed by byte offset (a partial last line waits
for the next read), tolerant of damaged lines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = dict[str, Any]


@dataclass
class JsonlChunk:
    records: list[Record]
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
        except ValueError:  # not JSON, or not UTF-8
            warnings.append(f"{path.name}: skipped an unreadable line (byte {offset}, line +{n})")
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            warnings.append(f"{path.name}: skipped a line that is not an object (byte {offset}, line +{n})")
    return JsonlChunk(records, offset + end, warnings)


def number(value: Any) -> float | None:
    """A stored number, or None for anything else (a string, a bool, null)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def step_of(record: Record) -> int:
    value = record.get("step")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass
class MetricStream:
    """The records of one run's metrics.jsonl read so far; `tail()` reads what was appended since."""

    path: Path
    records: list[Record] = field(default_factory=list)
    offset: int = 0
    warnings: list[str] = field(default_factory=list)

    def tail(self) -> list[Record]:
        chunk = read_jsonl(self.path, self.offset)
        self.offset = chunk.offset
        self.records += chunk.records
        self.warnings += chunk.warnings
        return chunk.records

    @property
    def evals(self) -> list[Record]:
        """In-training evaluations (validation), in order."""
        return [r for r in self.records if r.get("event") == "eval"]

    @property
    def train(self) -> list[Record]:
        """Training logs that carry a loss, in order."""
        return [r for r in self.records if r.get("event") == "train" and number(r.get("loss")) is not None]

    def train_losses(self) -> list[tuple[int, float]]:
        return [(step_of(r), float(r["loss"])) for r in self.train]

    @property
    def last_step(self) -> int | None:
        """The highest step any record reached."""
        steps = [step_of(r) for r in self.records if r.get("event") in ("train", "eval", "final")]
        return max(steps) if steps else None

"""`metrics.jsonl`: the metric stream, read whole or tailed by byte offset (a partial last line waits
for the next read), tolerant of damaged lines."""

from __future__ import annotations

import json
import os
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
    identity: tuple[int, int] | None = None
    """The file read (device, inode): another one at the same path is a rewritten stream."""
    restarted: bool = False
    """The file was replaced or cut since `offset` (a resume trims the stream by replacing it), so
    it was read from its start: these records replace, not extend, what was read before."""


def read_jsonl(path: Path, offset: int = 0, identity: tuple[int, int] | None = None) -> JsonlChunk:
    """Records appended to `path` since byte `offset`; a partial last line is held back. With the
    `identity` of the file read up to `offset`: from the start if the path now holds another file
    or a shorter one."""
    restarted = False
    try:
        with open(path, "rb") as fh:
            status = os.fstat(fh.fileno())
            now = (status.st_dev, status.st_ino)
            if offset and ((identity is not None and now != identity) or status.st_size < offset):
                offset, restarted = 0, True
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return JsonlChunk([], 0, restarted=bool(offset))
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
    return JsonlChunk(records, offset + end, warnings, now, restarted)


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
    identity: tuple[int, int] | None = None

    def tail(self) -> list[Record]:
        """The records appended since the last read. When the file was rewritten in between (a
        resume cuts the stream back to its checkpoint and replays), everything is read again:
        `records` is the new file's, and so is what this returns."""
        chunk = read_jsonl(self.path, self.offset, self.identity)
        if chunk.restarted:
            self.records = []
        self.offset, self.identity = chunk.offset, chunk.identity
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

"""Writing a run directory: atomic files (temp + rename), an append-only flushed metric stream, and
the typed record. `RunWriter` is the only code that changes files inside a run directory."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from peftspec.runs.layout import RunPaths, utc_now
from peftspec.runs.record import RunRecord


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: Path, write) -> None:
    """Call `write(binary file)` on a temporary file beside `path`, then rename it over `path`:
    readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda fh: fh.write(text.encode("utf-8")))


def to_json(value: Any) -> str:
    return json.dumps(_clean(value), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None (JSON has neither)."""
    if isinstance(value, BaseModel):
        return _clean(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, to_json(value))


class RunWriter:
    """Writes one run directory: its record, its metric stream and its result files."""

    def __init__(self, paths: RunPaths, record: RunRecord | None = None):
        self.paths = paths
        self.record = record if record is not None else RunRecord()
        self._metrics = None

    def update(self, **fields: Any) -> RunRecord:
        """Set record fields (validated against `RunRecord`) and rewrite run.json atomically."""
        unknown = sorted(set(fields) - set(RunRecord.model_fields))
        if unknown:
            raise TypeError(f"not fields of the run record: {', '.join(unknown)}")
        data = self.record.model_dump()
        data.update({k: _clean(v) if isinstance(v, BaseModel) else v for k, v in fields.items()})
        data["updated_at"] = utc_now().isoformat()
        self.record = RunRecord.model_validate(data)
        self._write_record()
        return self.record

    def _write_record(self) -> None:
        atomic_write_json(self.paths.run_json, self.record.stored())

    def log(self, record: dict[str, Any]) -> None:
        """Append one line to metrics.jsonl and flush it to the OS: a crash loses nothing logged."""
        if self._metrics is None:
            self._metrics = open(self.paths.metrics, "a", encoding="utf-8")  # noqa: SIM115 (lives with the run)
        line = json.dumps(_clean({"time": utc_now().isoformat(), **record}), ensure_ascii=False)
        self._metrics.write(line + "\n")
        self._metrics.flush()
        os.fsync(self._metrics.fileno())

    def write_spec(self, text: str) -> None:
        atomic_write_text(self.paths.spec, text)

    def copy_sources(self, files: Sequence[str]) -> None:
        """The spec file and each base it extends, as written (numbered in that order)."""
        self.paths.source.mkdir(exist_ok=True)
        for i, source in enumerate(files):
            shutil.copyfile(source, self.paths.source / f"{i:02d}-{Path(source).name}")

    def write_results(self, evaluation: dict, confusion: dict, thresholds: dict, predictions) -> None:
        """The final evaluation: eval.json, confusion.json, thresholds.json, predictions.parquet."""
        atomic_write_json(self.paths.eval, evaluation)
        atomic_write_json(self.paths.confusion, confusion)
        atomic_write_json(self.paths.thresholds, thresholds)
        if predictions is not None:
            atomic_write_bytes(self.paths.predictions, predictions.write_parquet)

    def write_extra_evaluation(self, name: str, evaluation: dict, confusion: dict, predictions) -> None:
        """A `peftspec evaluate` result: eval-NAME.json, confusion-NAME.json, predictions-NAME.parquet."""
        atomic_write_json(self.paths.extra_eval(name), evaluation)
        atomic_write_json(self.paths.extra_confusion(name), confusion)
        atomic_write_bytes(self.paths.extra_predictions(name), predictions.write_parquet)

    def write_rank_error(self, rank: int, error: dict[str, Any]) -> None:
        """What a rank other than 0 died with (rank 0 reads it to record the cause)."""
        self.paths.errors.mkdir(exist_ok=True)
        atomic_write_json(self.paths.rank_error(rank), error)

    def close(self) -> None:
        if self._metrics is not None and not self._metrics.closed:
            self._metrics.close()


class SilentWriter(RunWriter):
    """What ranks other than 0 use in a distributed run: the run's paths, no writes (one writer)."""

    def _write_record(self) -> None:
        pass

    def log(self, record: dict[str, Any]) -> None:
        pass

    def write_spec(self, text: str) -> None:
        pass

    def copy_sources(self, files: Sequence[str]) -> None:
        pass

    def write_results(self, evaluation: dict, confusion: dict, thresholds: dict, predictions) -> None:
        pass


def trim_metrics(paths: RunPaths, step: int | None) -> None:
    """Keep metrics.jsonl up to `step` (a checkpoint's), byte for byte: a resumed run replays what
    came after, so nothing is logged twice."""
    path = paths.metrics
    if not path.exists() or step is None:
        return
    kept = []
    with open(path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break  # a partial last line
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            at = record.get("step")
            at = at if isinstance(at, int | float) and not isinstance(at, bool) else 0
            if record.get("event") in ("train", "eval") and at <= step:
                kept.append(line)
    atomic_write_bytes(path, lambda fh: fh.writelines(kept))

"""Writing a run directory: atomic files (temp + rename) and an append-only, flushed metrics log."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from peftspec.runs.layout import RunPaths, utc_now


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_json(value: Any) -> str:
    return json.dumps(_clean(value), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None (JSON has neither)."""
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
    """Writes one run directory. Only this class changes files inside it."""

    def __init__(self, paths: RunPaths):
        self.paths = paths
        self.info: dict[str, Any] = {}
        self._metrics = open(paths.metrics, "a", encoding="utf-8")  # noqa: SIM115 (lives with the run)

    def update_info(self, **fields: Any) -> None:
        """Merge `fields` into run.json and rewrite it atomically."""
        self.info.update(fields)
        self.info["updated_at"] = utc_now().isoformat()
        atomic_write_json(self.paths.run_json, self.info)

    def log(self, record: dict[str, Any]) -> None:
        """Append one line to metrics.jsonl and flush it to the OS: a crash loses nothing logged."""
        line = json.dumps(_clean({"time": utc_now().isoformat(), **record}), ensure_ascii=False)
        self._metrics.write(line + "\n")
        self._metrics.flush()
        os.fsync(self._metrics.fileno())

    def write_json(self, path: Path, value: Any) -> None:
        atomic_write_json(path, value)

    def write_text(self, path: Path, text: str) -> None:
        atomic_write_text(path, text)

    def close(self) -> None:
        if not self._metrics.closed:
            self._metrics.close()


class SilentWriter(RunWriter):
    """What ranks other than 0 use in a distributed run: the run's paths, no writes (one writer)."""

    def __init__(self, paths: RunPaths):
        self.paths = paths
        self.info = {}

    def update_info(self, **fields: Any) -> None:
        self.info.update(fields)

    def log(self, record: dict[str, Any]) -> None:
        pass

    def write_json(self, path: Path, value: Any) -> None:
        pass

    def write_text(self, path: Path, text: str) -> None:
        pass

    def close(self) -> None:
        pass

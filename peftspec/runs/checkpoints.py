"""Checkpoints that count: a checkpoint folder is complete only once its marker, written last and
atomically, lists every file with its size and sha256. A folder without a marker, or whose files no
longer match it (truncated, deleted, or changed in place), is skipped, never resumed from. Markers
written before content hashes (sizes only) are still read."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from peftspec.runs.layout import RunPaths
from peftspec.runs.writer import atomic_write_json

MARKER = "peftspec-complete.json"


def mark_complete(folder: Path, step: int) -> None:
    """Record every file of a just-written checkpoint (fsynced first); call it after the save."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER):
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
            digest = _sha256(fh)
        files[str(path.relative_to(folder))] = {"size": path.stat().st_size, "sha256": digest}
    atomic_write_json(folder / MARKER, {"step": step, "files": files})


def _sha256(fh) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def problem_with(folder: Path) -> str | None:
    """Why `folder` cannot be resumed from, or None when it is complete."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "not marked complete (the process stopped while writing it)"
    except (OSError, ValueError):
        return "its completion marker is unreadable"
    files = marker.get("files") if isinstance(marker, dict) else None
    if not isinstance(files, dict):
        return "its completion marker is damaged"
    for name, entry in files.items():
        size, digest = (entry.get("size"), entry.get("sha256")) if isinstance(entry, dict) else (entry, None)
        path = folder / name
        if not isinstance(size, int):
            return "its completion marker is damaged"
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} is {path.stat().st_size:,} bytes, {size:,} when written (truncated?)"
        if digest is not None:
            with open(path, "rb") as fh:
                if _sha256(fh) != digest:
                    return f"{name} changed since it was written (its content hash differs)"
    return None


@dataclass
class CheckpointScan:
    newest: Path | None = None
    step: int | None = None
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    """Newer checkpoint folders passed over, with the reason."""


def checkpoint_folders(root: Path) -> list[tuple[int, Path]]:
    """(step, folder) of every `checkpoint-N` under `root`, newest first."""
    if not root.is_dir():
        return []
    found = [
        (step, p) for p in root.iterdir() if p.is_dir() and (step := RunPaths.checkpoint_step(p)) is not None
    ]
    return sorted(found, reverse=True)


def newest_complete(root: Path) -> CheckpointScan:
    scan = CheckpointScan()
    for step, folder in checkpoint_folders(root):
        reason = problem_with(folder)
        if reason is None:
            scan.newest, scan.step = folder, step
            return scan
        scan.skipped.append((folder, reason))
    return scan

"""One process at a time per run directory: an advisory lock held for the whole run or resume."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from peftspec.errors import UserError
from peftspec.runs.layout import RunPaths


class RunLocked(UserError):
    """Another process holds the run directory; the message names its process id."""

    title = "Busy"


class RunLock:
    def __init__(self, root: Path):
        self.path = RunPaths(Path(root)).lock
        self._fh = None

    def __enter__(self) -> RunLock:
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise RunLocked(f"{self.path.parent} is in use by process {holder}; wait for it to end") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

"""The run directory, owned here alone: its layout (`RunPaths`), the typed record (`RunRecord`),
the atomic writer (`RunWriter`), the tolerant reader (`Run`, `read_run`), checkpoints, the lock.

Every other package reads and writes runs through these names; none names a run file itself.
Imports no torch.
"""

from peftspec.runs.checkpoints import newest_complete
from peftspec.runs.groups import group_label, group_name, grouped, mean_sd
from peftspec.runs.layout import RunPaths, is_run_dir, new_run_dir
from peftspec.runs.lock import RunLock, RunLocked
from peftspec.runs.reader import Run, list_runs, read_run, run_dirs
from peftspec.runs.record import RunRecord
from peftspec.runs.select import RunNotFound, resolve_runs, short_names
from peftspec.runs.writer import RunWriter

__all__ = [
    "Run",
    "RunLock",
    "RunLocked",
    "RunNotFound",
    "RunPaths",
    "RunRecord",
    "RunWriter",
    "group_label",
    "group_name",
    "grouped",
    "mean_sd",
    "is_run_dir",
    "list_runs",
    "new_run_dir",
    "newest_complete",
    "read_run",
    "resolve_runs",
    "run_dirs",
    "short_names",
]

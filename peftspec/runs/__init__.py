"""The run directory: its layout, an atomic writer, and a tolerant reader (no torch)."""

from peftspec.runs.layout import RunPaths, new_run_dir
from peftspec.runs.reader import Run, list_runs, read_run

__all__ = ["Run", "RunPaths", "list_runs", "new_run_dir", "read_run"]

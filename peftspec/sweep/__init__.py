"""`peftspec sweep SPEC`: the spec's `[sweep]` search on Optuna. Each trial is an ordinary
`peftspec run` in a process of its own; the study lives in a journal file beside the runs (or a
database), so workers on other machines join it with `--join`, and a killed sweep starts again
where it was: finished trials stay, an interrupted trial resumes from its checkpoint.

Needs the `sweep` extra (Optuna; SQLAlchemy and psycopg2 for PostgreSQL)."""

from peftspec.sweep.runner import SweepOptions, run_sweep

__all__ = ["SweepOptions", "run_sweep"]

"""A progress bar over rows, for work that labels many rows at once: `peftspec predict`, `peftspec
evaluate` and a run's final evaluation. Only on a terminal, and only for enough rows to be worth
watching; it leaves nothing behind when done (what was done is printed after it)."""

from __future__ import annotations

import contextlib

SHOWN_FROM = 256
"""Fewer rows than this are labelled in a few batches: no bar."""


def rows_progress(console, total: int, what: str):
    """A context that yields a callback advancing a bar over `total` rows by n rows (as
    `peftspec.build.predict.predict` calls its `progress`), or None when no bar is shown."""
    if console is None or not console.is_terminal or total < SHOWN_FROM:
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def bar():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("rows", total=total)
            yield lambda n: progress.advance(task, n)

    return bar()

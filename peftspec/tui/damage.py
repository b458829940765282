"""A pane that cannot draw a damaged run's files says so and leaves the app running."""

from __future__ import annotations

import functools

from peftspec.runs.reader import DAMAGE


def tolerant(pane: str):
    """Decorate a screen method that draws `pane` from run files: a damaged value becomes a warning
    (a notification, and a line in the run's warnings) instead of a crash."""

    def wrap(method):
        @functools.wraps(method)
        def drawn(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except DAMAGE as exc:
                message = f"{pane}: cannot be shown, the run's files are damaged ({exc!r})"
                for run in getattr(self, "runs", None) or [getattr(self, "detail", None)]:
                    if run is not None and message not in run.warnings:
                        run.warnings.append(message)
                self.notify(message, severity="warning", timeout=8)
                return None

        return drawn

    return wrap

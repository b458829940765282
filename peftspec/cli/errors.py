"""One renderer for every command's user errors: title, located problems, hint, exit code."""

from __future__ import annotations

import sys

from peftspec.cli.common import color
from peftspec.errors import UserError


def render_error(error: UserError, command: str) -> int:
    """Print `error` to stderr as every command does; returns its exit code."""
    from rich.console import Console
    from rich.text import Text

    from peftspec.spec.diagnostics import SpecError

    err = Console(stderr=True, highlight=False, no_color=not color(sys.stderr))
    if isinstance(error, SpecError):  # located spec diagnostics: exactly as `peftspec lint` prints them
        from peftspec.spec import LoadResult, lint

        result = lint.LintResult([error.file or ""], [LoadResult(error.file or "", None, error.diagnostics)])
        print(lint.as_text(result, color(sys.stderr)), file=sys.stderr)
        return error.exit_code
    from peftspec.spec.lint import printable

    head = Text.assemble((f"peftspec {command}: ", "bold"), (error.title, "bold red"))
    problems = [printable(p) for p in error.problems]
    if error.message:
        head.append(f": {printable(error.message)}")
    if problems:
        head.append(":" if not error.message else "")
    err.print(head, soft_wrap=True)
    for line in problems:
        err.print(Text(f"  {line}"), soft_wrap=True)
    if error.hint:
        err.print(Text.assemble(("hint: ", "bold"), printable(error.hint)), soft_wrap=True)
    return error.exit_code


def run_failed(exc: Exception) -> int:
    """An error that is not the user's: say so in one line, and where the traceback is."""
    import errno

    from rich.console import Console
    from rich.text import Text

    err = Console(stderr=True)
    err.print(Text.assemble(("The run failed: ", "bold red"), f"{type(exc).__name__}: {exc}"), soft_wrap=True)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        err.print(
            "The disk is full: the run may not have been recorded. Free space where it writes "
            "(tracking.output_root), then resume it with `peftspec run --resume RUN` if a checkpoint "
            "was completed. The traceback follows.",
            soft_wrap=True,
        )
        err.print_exception()
        return 1
    from peftspec.errors import recorded_in

    run_dir = recorded_in(exc)
    if run_dir is not None:
        err.print(
            Text(
                f"The run is recorded as failed in {run_dir}; its run.json holds the traceback (or set "
                "PEFTSPEC_DEBUG=1 to see it here)."
            ),
            soft_wrap=True,
        )
    else:
        err.print(
            "It failed before the run started: nothing was recorded. PEFTSPEC_DEBUG=1 shows the traceback."
        )
    return 1

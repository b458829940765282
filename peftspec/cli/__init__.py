"""The `peftspec` command line: one module per command (`add_parser` + `handle`), each parsing its
arguments, calling one library function and printing the result. A user's mistake raises a
`peftspec.errors.UserError`, which `peftspec.cli.errors.render` prints the same way for every
command.

Exit codes: 0 success; 1 problems found (invalid spec, bad data, failed run); 2 usage error;
130 / 143 a run stopped by SIGINT / SIGTERM after writing a checkpoint (resumable).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from peftspec.cli import (
    check,
    compare,
    evaluate,
    export,
    init,
    lint,
    plan,
    predict,
    render,
    report,
    run,
    runs,
    schema,
    serve,
    sweep,
    tui,
)
from peftspec.errors import EXIT_OK, FileSystemRefused, UserError, missing_extra

COMMANDS = [
    lint,
    run,
    sweep,
    check,
    plan,
    runs,
    render,
    compare,
    report,
    predict,
    evaluate,
    export,
    serve,
    tui,
    schema,
    init,
]
"""In the order `peftspec --help` lists them."""


def build_parser() -> argparse.ArgumentParser:
    from peftspec import __version__

    parser = argparse.ArgumentParser(
        prog="peftspec",
        description="Declarative PEFT fine-tuning for text classification.",
        epilog="Exit codes: 0 success, 1 problems found, 2 usage error, 130/143 stopped by a signal "
        "(resumable).",
    )
    parser.add_argument("--version", action="version", version=f"peftspec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from peftspec.build.environment import quiet_loggers
    from peftspec.cli.errors import render_error

    quiet_loggers()
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        if os.environ.get("PEFTSPEC_DEBUG"):
            raise
        return render_error(exc, args.command)
    except ModuleNotFoundError as exc:  # an optional dependency, imported deeper than the handler
        if os.environ.get("PEFTSPEC_DEBUG") or (exc.name or "peftspec").startswith("peftspec"):
            raise
        return render_error(missing_extra(exc, args.command), args.command)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # the file system refused a path (no such folder, permission, disk full)
        if os.environ.get("PEFTSPEC_DEBUG") or not exc.filename:
            raise
        return render_error(FileSystemRefused(exc), args.command)

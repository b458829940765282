"""`peftspec tui [PATH]`: browse, follow and compare runs in the terminal."""

from __future__ import annotations

import argparse
import os

from peftspec.errors import UsageError, missing_extra

HELP = "browse, follow and compare runs in the terminal"


def add_parser(sub) -> None:
    p = sub.add_parser("tui", help=HELP)
    p.add_argument("root", nargs="?", default="runs", metavar="PATH", help="folder of run directories")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        from peftspec.tui.app import PeftspecApp
    except ImportError as exc:
        raise missing_extra(exc, "tui", extra="") from None
    if not os.path.isdir(args.root):
        raise UsageError(
            f"{args.root}: no such folder", hint="runs appear there once `peftspec run` writes them"
        )
    app = PeftspecApp(args.root)
    app.run()
    return app.return_code or 0  # Textual sets 1 when the app ended on an error

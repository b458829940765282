"""`peftspec init [PATH]`: write a commented starter spec."""

from __future__ import annotations

import argparse
import os

from peftspec.errors import UsageError

HELP = "write a commented starter spec"


def add_parser(sub) -> None:
    p = sub.add_parser("init", help=HELP)
    p.add_argument("path", nargs="?", default="spec.toml", metavar="PATH")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from peftspec.spec.starter import starter_toml

    if os.path.exists(args.path) and not args.force:
        raise UsageError(f"{args.path} exists", hint="use --force to overwrite it")
    with open(args.path, "w", encoding="utf-8") as fh:
        fh.write(starter_toml())
    print(f"Wrote {args.path}. Edit the data path and labels, then: peftspec lint {args.path}")
    return 0

"""`peftspec check PATH...`: each spec end to end on the CPU with a toy backbone of its architecture."""

from __future__ import annotations

import argparse

from peftspec.cli.common import add_set
from peftspec.errors import missing_extra, require_extra

HELP = "run specs end to end on the CPU with toy backbones (about a minute)"


def add_parser(sub) -> None:
    p = sub.add_parser("check", help=HELP)
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders (searched recursively)")
    p.add_argument("--steps", type=int, default=4, help="training steps per spec (default: 4)")
    p.add_argument("--keep", metavar="DIR", help="keep the toy runs under DIR (default: a temporary folder)")
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="text for people, json for tools"
    )
    add_set(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.console import Console

    from peftspec.spec.lint import find_specs

    files = find_specs(args.paths)
    require_extra("check")
    try:
        from peftspec.check import CheckOptions, check_file
        from peftspec.check.output import as_json, print_check, summary
    except ImportError as exc:
        raise missing_extra(exc, "check") from None
    console = Console()
    options = CheckOptions(steps=args.steps, keep_root=args.keep, overrides=args.set)
    checks = []
    for file in files:
        checks.append(check_file(file, options))
        if args.format == "text":
            print_check(checks[-1], console)
    print(as_json(checks) if args.format == "json" else summary(checks))
    return 1 if any(c.status == "failed" for c in checks) else 0

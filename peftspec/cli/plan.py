"""`peftspec plan SPEC [--gpu-memory SIZE]`: peak GPU memory, whether it fits, what would make it fit."""

from __future__ import annotations

import argparse

from peftspec.cli.common import add_set, load_for_command
from peftspec.errors import missing_extra

HELP = "estimate peak GPU memory before any download, and what makes it fit"


def add_parser(sub) -> None:
    p = sub.add_parser("plan", help=HELP)
    p.add_argument("spec", metavar="SPEC", help="the spec file")
    p.add_argument(
        "--gpu-memory", metavar="SIZE", help="the card's memory (24GiB, 80GB); exit 1 if it does not fit"
    )
    p.add_argument(
        "--format", choices=["table", "json"], default="table", help="table for people, json for tools"
    )
    add_set(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.console import Console

    spec = load_for_command(args.spec, args.set).spec
    try:
        from peftspec.plan import fit_report, parse_size, render_fit
    except ImportError as exc:
        raise missing_extra(exc, "plan") from None
    budget = parse_size(args.gpu_memory) if args.gpu_memory else None
    report = fit_report(spec, budget)
    if args.format == "json":
        from peftspec.plan.fit import fit_json
        from peftspec.runs.writer import to_json

        print(to_json(fit_json(report)), end="")
    else:
        render_fit(report, Console())
    return 0 if report.fits else 1

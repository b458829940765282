"""`peftspec report RUN... -o DIR`: a Markdown and HTML report with curves and confusion heatmaps."""

from __future__ import annotations

import argparse
from pathlib import Path

from peftspec.cli.common import add_run_selection, runs_for
from peftspec.errors import missing_extra

HELP = "write a Markdown and HTML report of recorded runs"


def add_parser(sub) -> None:
    p = sub.add_parser("report", help=HELP)
    p.add_argument("-o", "--output", default="report", help="output folder (default: report)")
    add_run_selection(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    runs = runs_for(args, args.runs)
    try:
        from peftspec.report.build import build_report
    except ImportError as exc:
        raise missing_extra(exc, "report") from None
    path = build_report(runs, Path(args.output), args.split)
    print(f"Wrote {path} and {path.with_suffix('.html')}")
    return 0

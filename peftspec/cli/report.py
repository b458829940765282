"""`peftspec report RUN... -o DIR`: a Markdown and HTML report with curves and confusion heatmaps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peftspec.cli.common import add_run_selection, runs_for
from peftspec.errors import missing_extra, require_extra

HELP = "write a Markdown and HTML report of recorded runs"


def add_parser(sub) -> None:
    p = sub.add_parser("report", help=HELP)
    p.add_argument("-o", "--output", default="report", help="output folder (default: report)")
    add_run_selection(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    runs = runs_for(args, args.runs)
    require_extra("report")  # before the output folder is made: nothing half-written
    try:
        from peftspec.report.build import build_report
    except ImportError as exc:
        raise missing_extra(exc, "report") from None
    seen = {run.name: len(run.warnings) for run in runs}
    path = build_report(runs, Path(args.output), args.split)
    for run in runs:
        for warning in run.warnings[seen[run.name] :]:
            print(f"warning: {run.name}: {warning}", file=sys.stderr)
    print(f"Wrote {path} and {path.with_suffix('.html')}")
    return 0

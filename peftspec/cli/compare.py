"""`peftspec compare RUN...`: recorded runs side by side, optionally against a baseline run."""

from __future__ import annotations

import argparse

from peftspec.cli.common import add_run_selection, runs_for

HELP = "compare recorded runs side by side"


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help=HELP)
    p.add_argument("--format", choices=["table", "markdown", "csv", "json"], default="table")
    p.add_argument("--baseline", metavar="RUN", help="show each run's difference from this run")
    add_run_selection(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from peftspec.report import compare

    runs = runs_for(args, list(args.runs) + ([args.baseline] if args.baseline else []))
    baseline = runs[-1].name if args.baseline else None
    rows = compare.comparison_rows(runs, compare.default_split(runs, args.split), baseline)
    if args.format == "table":
        from rich.console import Console

        console = Console()
        if not console.is_terminal:
            console = Console(width=1000)  # piped or redirected: never squeeze numbers
        console.print(compare.as_rich_table(rows, baseline))
    else:
        formats = {"json": compare.as_json, "csv": compare.as_csv, "markdown": compare.as_markdown}
        print(formats[args.format](rows), end="" if args.format != "json" else "\n")
    return 0

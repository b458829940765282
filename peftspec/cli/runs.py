"""`peftspec runs [PATH] [--format json] [--gc]`: list runs with their status; trim checkpoints of
completed runs."""

from __future__ import annotations

import argparse
import os
import sys

from peftspec.errors import UsageError

HELP = "list runs with their status (crashed ones too); --gc trims checkpoints"


def add_parser(sub) -> None:
    p = sub.add_parser("runs", help=HELP)
    p.add_argument("root", nargs="?", default="runs", metavar="PATH", help="folder of run directories")
    p.add_argument(
        "--format",
        choices=["table", "json"],
        default="table",
        help="json: one object per run (status, steps, error, the command that resumes it), for scripts",
    )
    p.add_argument("--gc", action="store_true", help="remove checkpoints other than the best and the latest")
    p.add_argument("--yes", action="store_true", help="with --gc: remove without asking")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.text import Text

    from peftspec.cli.common import table_console
    from peftspec.runs import list_runs
    from peftspec.runs.gc import collect, removable
    from peftspec.runs.listing import runs_json, runs_table

    if not os.path.isdir(args.root):
        raise UsageError(f"{args.root}: no such folder")
    if args.format == "json" and args.gc:
        raise UsageError("--gc asks before it removes: use it with the table, not --format json")
    runs = list_runs(args.root)
    if args.format == "json":
        print(runs_json(runs))
        return 0
    console = table_console()
    console.print(runs_table(runs, args.root, console.width if console.is_terminal else None))
    if not args.gc:
        return 0
    removals = [r for run in runs for r in removable(run)]
    if not removals:
        console.print("Nothing to remove: completed runs keep only their best and latest checkpoints.")
        return 0
    total = sum(r.size for r in removals) / 2**20
    for r in removals:
        console.print(Text(f"  remove {r.folder}  ({r.size / 2**20:.1f} MiB)"), soft_wrap=True)
    console.print(f"{len(removals)} checkpoint(s), {total:.1f} MiB; each run's best and latest stay.")
    if not (args.yes or (sys.stdin.isatty() and input("Remove them? [y/N] ").strip().lower() == "y")):
        console.print("Nothing removed (pass --yes to remove without asking).")
        return 0
    collect(removals)
    console.print(f"Removed {len(removals)} checkpoint(s), {total:.1f} MiB.")
    return 0

"""`peftspec compare RUN...`: recorded runs side by side, optionally against a baseline run, with a
paired bootstrap of every difference."""

from __future__ import annotations

import argparse
import sys

from peftspec.cli.common import add_run_selection, runs_for, table_console, with_baseline
from peftspec.errors import UsageError

HELP = "compare recorded runs side by side (groups of replicates as mean ± sd)"


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help=HELP)
    p.add_argument(
        "--format",
        choices=["table", "markdown", "latex", "csv", "json"],
        default="table",
        help="table for the terminal, markdown to paste, latex (booktabs tables with their captions) "
        "for a paper, csv or json for tools",
    )
    p.add_argument(
        "--baseline",
        metavar="RUN",
        help="show each run's difference from this run (or its group), with a 95%% interval and a "
        "p-value from a paired bootstrap over the split's rows",
    )
    p.add_argument("--bootstrap-seed", type=int, default=0, metavar="N", help="seed of the resampling")
    p.add_argument("--resamples", type=int, default=10_000, metavar="N", help="bootstrap resamples")
    p.add_argument("--no-significance", action="store_true", help="with --baseline: differences only")
    p.add_argument(
        "--columns",
        metavar="KEYS",
        help="the columns to show, in order, comma-separated (metric names such as jaccard,f1_macro, "
        "or val_loss, wall_time_s); with --baseline only these metrics are tested, so Holm's "
        "correction counts only them; csv and json keep every key",
    )
    p.add_argument("--ungroup", action="store_true", help="one row per run, replicates too")
    p.add_argument(
        "--per-label",
        action="store_true",
        help="each label's F1 side by side instead (with --baseline: deltas)",
    )
    add_run_selection(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.resamples < 100:
        raise UsageError("--resamples must be at least 100")
    needs_numpy = args.baseline and not args.no_significance and not args.per_label
    if needs_numpy:
        from peftspec.errors import require_extra

        require_extra("compare")
    from peftspec.report import compare
    from peftspec.report.columns import column_keys

    keys = column_keys(args.columns) if args.columns is not None else None
    runs, baseline = with_baseline(args, runs_for(args, list(args.runs)))
    result = compare.compare_runs(
        runs,
        baseline,
        args.split,
        group=not args.ungroup,
        significance=not args.no_significance and not args.per_label,
        resamples=args.resamples,
        seed=args.bootstrap_seed,
        columns=keys,
    )
    if result.note:
        print(f"warning: {result.note}", file=sys.stderr)
    warned: dict[str, list[str]] = {}  # figures on data the runs were warned about say so, once each
    for run in runs:
        for warning in run.record.data_warnings:
            warned.setdefault(warning, []).append(run.name)
    for warning, names in warned.items():
        who = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more run(s)"
        print(f"warning: {who}: data: {warning}", file=sys.stderr)
    for run in runs:
        if args.split not in (None, "validation", "test"):  # `peftspec evaluate`'s: rows seen in training
            for warning in run.evaluation_warnings(args.split):
                print(f"warning: {run.name}: {args.split}: {warning}", file=sys.stderr)
    if args.per_label:
        return _per_label(args, result, [*runs, *([baseline] if baseline else [])])
    if args.format == "table":
        console = table_console()
        console.print(compare.as_rich_table(result.rows, result.baseline_name, keys))
        if result.settings:
            console.print(compare.as_rich_settings(result.rows, result.settings))
        if result.comparison is not None:
            console.print(compare.as_rich_significance(result.comparison))
    elif args.format in ("markdown", "latex"):
        write = compare.as_markdown if args.format == "markdown" else compare.as_latex
        print(write(result.rows, result.comparison, result.settings, keys), end="")
    else:
        formats = {"json": compare.as_json, "csv": compare.as_csv}
        print(formats[args.format](result.rows), end="" if args.format != "json" else "\n")
    return 0


def _per_label(args: argparse.Namespace, result, runs) -> int:
    from peftspec.report import compare
    from peftspec.report.per_label import (
        NoPerLabel,
        per_label,
        per_label_latex,
        per_label_markdown,
        per_label_rich,
        test_labels,
    )

    try:
        table = per_label(result.rows, runs, result.split, result.baseline)
    except NoPerLabel as exc:
        raise UsageError(str(exc)) from None
    if args.baseline and not args.no_significance:
        untested = test_labels(table, result.rows, runs, args.resamples, args.bootstrap_seed)
        if untested not in (None, "no baseline", "thresholds tuned on these rows"):
            print(f"warning: {untested}", file=sys.stderr)
    if args.format == "table":
        table_console().print(per_label_rich(table))
    elif args.format in ("markdown", "latex"):
        print((per_label_markdown if args.format == "markdown" else per_label_latex)(table), end="")
    else:
        formats = {"json": compare.as_json, "csv": compare.as_csv}
        print(formats[args.format](table.long_rows()), end="" if args.format != "json" else "\n")
    return 0

"""`peftspec report RUN... -o DIR`: a Markdown, HTML and LaTeX report with curves and confusion heatmaps;
`peftspec report SWEEP_FOLDER -o DIR` (or `--storage URL --study NAME`): a sweep's report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peftspec.cli.common import add_run_selection, runs_for, with_baseline
from peftspec.errors import UsageError, missing_extra, require_extra

HELP = "write a Markdown, HTML and LaTeX report of recorded runs, or of a sweep"


def add_parser(sub) -> None:
    p = sub.add_parser("report", help=HELP)
    p.add_argument("-o", "--output", default="report", help="output folder (default: report)")
    p.add_argument(
        "--columns", metavar="KEYS", help="the overview's columns, in order, as compare --columns takes them"
    )
    p.add_argument(
        "--storage", metavar="URL", help="a sweep's database (with --study); RUN is then not needed"
    )
    p.add_argument("--study", metavar="NAME", help="the sweep's study (default: the only one in the storage)")
    p.add_argument(
        "--baseline",
        metavar="RUN",
        help="add each run's difference to this run (or its group) with a 95%% interval (paired bootstrap)",
    )
    add_run_selection(p, required=False)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise UsageError(f"{args.output} exists and is not a folder", hint="name a folder with -o")
    sweep = _sweep_folder(args)
    if sweep is not None or args.storage:
        return _sweep_report(args, sweep)
    if not args.runs:
        raise UsageError("name the runs to report on (or a sweep's folder)")
    from peftspec.report.columns import column_keys

    keys = column_keys(args.columns) if args.columns is not None else None
    runs, baseline = with_baseline(args, runs_for(args, args.runs))
    require_extra("report")  # before the output folder is made: nothing half-written
    try:
        from peftspec.report.build import build_report
    except ImportError as exc:
        raise missing_extra(exc, "report") from None
    seen = {run.name: len(run.warnings) for run in runs}
    path = build_report(runs, Path(args.output), args.split, baseline, keys)
    for run in runs:
        for warning in run.warnings[seen[run.name] :]:
            print(f"warning: {run.name}: {warning}", file=sys.stderr)
    print(f"Wrote {path}, {path.with_suffix('.html')} and {path.with_suffix('.tex')}")
    return 0


def _sweep_folder(args: argparse.Namespace) -> Path | None:
    from peftspec.sweep.storage import JOURNAL

    if len(args.runs) == 1 and (Path(args.runs[0]) / JOURNAL).is_file():
        return Path(args.runs[0])
    return None


def _sweep_report(args: argparse.Namespace, folder: Path | None) -> int:
    require_extra("report")
    require_extra("report", "sweep")
    import optuna

    from peftspec.report.sweep import build_sweep_report
    from peftspec.sweep.storage import describe, open_storage

    storage = open_storage(args.storage, folder or Path("."))
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    name = args.study or (names[0] if len(names) == 1 else None)
    if name not in names:
        raise UsageError(
            f"no study {args.study!r} there; studies: {', '.join(names) or 'none'}"
            if args.study
            else f"{len(names)} studies there; name one with --study: {', '.join(names)}"
        )
    study = optuna.load_study(study_name=name, storage=storage)
    path = build_sweep_report(study, Path(args.output), describe(args.storage, folder or Path(".")))
    print(f"Wrote {path}, {path.with_suffix('.html')} and {path.with_suffix('.tex')}")
    return 0

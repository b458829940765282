"""`peftspec sweep SPEC`: run the spec's `[sweep]` on Optuna, here or as one more worker (`--join`)."""

from __future__ import annotations

import argparse

from peftspec.cli.common import add_set, load_for_command, table_console
from peftspec.errors import missing_extra

HELP = "search the spec's [sweep] space with Optuna, each trial an ordinary run"


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help=HELP)
    p.add_argument("spec", metavar="SPEC", help="a spec with a [sweep] table")
    add_set(p)
    p.add_argument(
        "--storage",
        metavar="URL",
        help="a database for the study (postgresql://user@host/db, sqlite:///file.db); "
        "default: a journal file in <output_root>/<name>-sweep/",
    )
    p.add_argument(
        "--join", action="store_true", help="add this process as a worker to a study already started"
    )
    p.add_argument("--study", metavar="NAME", help="the study's name (default: the spec's name)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    loaded = load_for_command(args.spec, args.set)
    try:
        import optuna  # noqa: F401

        from peftspec.sweep import SweepOptions, run_sweep
        from peftspec.sweep.report import best_row, print_study, retrain_command
    except ImportError as exc:
        raise missing_extra(exc, "sweep", "sweep") from None
    console = table_console()  # piped or logged: the trials' run names whole
    options = SweepOptions(storage=args.storage, join=args.join, study=args.study)
    result = run_sweep(loaded.spec, args.spec, list(args.set), options, console)
    print_study(result.study, console, title=f"Study {result.study.study_name} ({result.storage})")
    best = best_row(result.study)
    if best is not None and best["group"] and best["run_dir"]:
        from peftspec.runs import read_run

        console.print(
            f"Trial {best['number']} was cross-validated, with a model per fold; to train one model "
            "with its values (held out and validated as the spec says):",
            highlight=False,
        )
        console.print(retrain_command(read_run(best["run_dir"])), highlight=False, soft_wrap=True)
    return 0

"""`peftspec evaluate RUN DATA`: score a trained run on another labelled file (or hub split);
recorded in the run."""

from __future__ import annotations

import argparse

from peftspec.cli.common import add_one_run, one_run
from peftspec.errors import missing_extra
from peftspec.spec.reader import ENCODINGS

HELP = "score a trained run on another labelled file"


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help=HELP)
    add_one_run(p)
    p.add_argument(
        "data",
        metavar="DATA",
        help="a labelled file in the run's data layout, or a hub split: hub:ORG/NAME[:CONFIG][[SPLIT]] "
        "(the test split unless named)",
    )
    p.add_argument(
        "--name", help="name of this evaluation (default: the file's name, or the dataset's and split's)"
    )
    p.add_argument(
        "--encoding", choices=ENCODINGS, help="the file's text encoding (default: the run's reader's)"
    )
    p.add_argument(
        "--sheet",
        help="an Excel workbook's sheet with the rows (default: the run's, its test sheet when it names one "
        "per split; else the first)",
    )
    p.add_argument(
        "--skip-rows",
        type=int,
        metavar="N",
        help="lines or sheet rows above the file's header, a title (default: the run's reader's)",
    )
    p.add_argument(
        "--split",
        choices=("test", "validation", "train", "all"),
        help="for a file with the run's dataset.split_column: score the rows it says are this split's "
        "(default: test), or every row (all)",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.console import Console

    try:
        from peftspec.inference.loaded import load_run
        from peftspec.inference.score import evaluate_file
        from peftspec.report.final import metrics_table, print_warnings
    except ImportError as exc:
        raise missing_extra(exc, "evaluate") from None
    loaded = load_run(one_run(args.run, args.root))
    console = Console()
    done = evaluate_file(
        loaded, args.data, args.name, console, args.encoding, args.sheet, args.split, args.skip_rows
    )
    console.print(metrics_table({done.name: done.metrics}, splits=[done.name]))
    print_warnings(console, done.warnings)
    scored = f"{done.rows:,} rows" + (f", {done.scope}" if done.scope else "")
    console.print(f"Scored {scored}; recorded in {loaded.run.paths.extra_eval(done.name)}")
    return 0

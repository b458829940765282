"""`peftspec predict RUN INPUT [-o OUT]`: label a file (or stdin lines) with a trained run."""

from __future__ import annotations

import argparse

from peftspec.cli.common import add_one_run, one_run
from peftspec.errors import UsageError, missing_extra
from peftspec.spec.reader import ENCODINGS

HELP = "label a file (or stdin lines) with a trained run"


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help=HELP)
    add_one_run(p)
    p.add_argument(
        "input",
        metavar="INPUT",
        help="csv, tsv, jsonl, json, parquet or Excel file, or a split's folder saved by save_to_disk; "
        "- for stdin lines; a hub split as "
        "hub:ORG/NAME[:CONFIG][[SPLIT]] (the test split unless named)",
    )
    p.add_argument(
        "-o",
        "--output",
        help="output file (.parquet, .csv, .jsonl, .json or .xlsx; .json of a Label Studio export: its "
        "tasks with the run's predictions, to import as pre-annotations); default: jsonl on stdout",
    )
    p.add_argument("--text-column", help="the column to label (default: the run's text column)")
    p.add_argument(
        "--pair-column", help="a run on text pairs: the column of second texts (default: the run's)"
    )
    p.add_argument("--batch-size", type=int, help="rows per batch (default: the run's eval batch size)")
    p.add_argument(
        "--encoding",
        choices=ENCODINGS,
        default="utf8",
        help="the input's text encoding (default: utf8); utf16 for Excel's Unicode Text, cp1252 for "
        "Excel's CSV on Windows",
    )
    p.add_argument("--sheet", help="an Excel workbook's sheet with the rows (default: the first)")
    p.add_argument(
        "--skip-rows", type=int, default=0, metavar="N", help="lines or sheet rows above the header (a title)"
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    try:
        from peftspec.inference.label_file import (
            check_output,
            label_frame,
            label_studio_input,
            read_input,
            write_output,
        )
        from peftspec.inference.label_studio import preannotated
        from peftspec.inference.loaded import load_run
        from peftspec.progress import rows_progress
    except ImportError as exc:
        raise missing_extra(exc, "predict") from None
    err = Console(stderr=True)
    check_output(args.output)  # before an hour of labelling, not after
    loaded = load_run(one_run(args.run, args.root), args.batch_size)
    for warning in loaded.run.warnings:
        err.print(Text(f"warning: {warning}"), soft_wrap=True)
    column = args.text_column or loaded.spec.dataset.text_column
    pair = loaded.spec.dataset.text_pair_column
    if args.pair_column and pair is None:
        raise UsageError(f"{loaded.run.name} was trained on single texts: --pair-column does not apply")
    pair = args.pair_column or pair
    frame = read_input(args.input, column, args.encoding, args.sheet, args.skip_rows)
    with rows_progress(err, frame.height, "labelling") as advance:
        labelling = label_frame(loaded, frame, column, pair, advance, source=args.input)
    tasks = (
        label_studio_input(args.input, args.encoding)
        if (args.output or "").lower().endswith(".json")
        else None
    )
    if tasks is not None:  # a Label Studio export back, each task with the run's prediction
        tasks = preannotated(tasks, labelling.frame, loaded, column)
    write_output(labelling.frame, args.output, tasks)
    if labelling.empty_rows:
        from peftspec.build.problems import rows_hint

        rows = labelling.empty_rows
        err.print(
            Text(
                f"warning: {len(rows)} row(s) with empty text{' or text pair' * bool(pair)} were not "
                f"labelled (kept in the output with no prediction): {rows_hint(rows, len(rows))}"
            ),
            soft_wrap=True,
        )
    if args.output:
        err.print(Text(f"Labelled {labelling.frame.height:,} rows -> {args.output}"))
    return 0

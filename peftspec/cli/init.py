"""`peftspec init [PATH] [--data TRAIN] [--model MODEL]`: write a commented starter spec, its
[dataset] guessed from a data file when one is given."""

from __future__ import annotations

import argparse
import os
import sys

from peftspec.errors import UsageError

HELP = "write a commented starter spec (with --data: guessed from a data file)"


def add_parser(sub) -> None:
    p = sub.add_parser("init", help=HELP)
    p.add_argument(
        "path",
        nargs="?",
        default="spec.toml",
        metavar="PATH",
        help="the spec file to write (default spec.toml)",
    )
    p.add_argument(
        "--data",
        metavar="TRAIN",
        help="a training file (csv, tsv, jsonl, json, parquet, Excel), a folder saved by datasets' "
        "save_to_disk, or a Hub dataset as hub:ORG/NAME[:CONFIG]: "
        "its text, id and label columns, its validation and test data and max_length are guessed, said "
        "and checked",
    )
    p.add_argument("--model", metavar="MODEL", help="the backbone: a Hub id, a local folder or package:NAME")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from peftspec.spec.starter import starter_toml

    if os.path.exists(args.path) and not args.force:
        raise UsageError(f"{args.path} exists", hint="use --force to overwrite it")
    if args.data is None:
        text = starter_toml(model=args.model, spec_name=os.path.basename(args.path))
    else:
        from peftspec.build.guess import starter_from_data

        text = starter_from_data(args.data, args.path, args.model)
    os.makedirs(os.path.dirname(args.path) or ".", exist_ok=True)  # `init specs/new.toml` in a new folder
    with open(args.path, "w", encoding="utf-8") as fh:
        fh.write(text)
    if args.data is None:
        print(f"Wrote {args.path}. Edit the data path and labels, then: peftspec lint {args.path}")
        return 0
    from peftspec.build.guess import loaded_summary
    from peftspec.build.problems import DataError

    print(f"Wrote {args.path}, its [dataset] guessed from {args.data}:")
    print("".join(line[1:] + "\n" for line in text.splitlines() if line.startswith("#   ")), end="")
    try:
        summary, advice = loaded_summary(args.path)
    except DataError as exc:
        print(f"{args.path} is written, but its data does not load yet:\n{exc}", file=sys.stderr)
        return 1
    print(f"Checked by reading the data as a run would: {summary}")
    print(f"Read it, then: peftspec run {args.path} --dry-run")
    if advice:
        print(f"Small data: {advice}")
    return 0

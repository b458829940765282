"""`peftspec export RUN -o DIR [--merge]`: the adapter, or a merged standard HF model, with a card."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peftspec.cli.common import add_one_run, one_run
from peftspec.errors import missing_extra

HELP = "export a run's adapter, or a merged standard HF model"


def add_parser(sub) -> None:
    p = sub.add_parser("export", help=HELP)
    add_one_run(p)
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--merge", action="store_true", help="merge the adapter into the backbone")
    p.add_argument(
        "--dtype",
        choices=["float32", "bfloat16", "float16"],
        help="dtype of the merged weights (required to merge a quantised run's adapter)",
    )
    p.add_argument(
        "--format",
        choices=["hf", "safetensors"],
        default="hf",
        help="hf: a full model folder with a model card; safetensors: weights, config and tokenizer",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="export into a non-empty folder, replacing the files the export writes (others stay)",
    )
    p.add_argument(
        "--base-model",
        metavar="HUB_ID",
        help="the Hub id the adapter records as its base (default: the spec's model; a local or "
        "package: model is recorded as its folder on this machine)",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        from peftspec.inference.export import export_run
    except ImportError as exc:
        raise missing_extra(exc, "export") from None
    exported = export_run(
        one_run(args.run, args.root),
        Path(args.output),
        merge=args.merge,
        dtype=args.dtype,
        fmt=args.format,
        overwrite=args.overwrite,
        base_model=args.base_model,
    )
    print(f"Exported {args.run} -> {exported.folder}" + (" (merged)" if args.merge else ""))
    for note in exported.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0

"""`peftspec schema`: the spec's JSON Schema (for editors) or the Markdown reference."""

from __future__ import annotations

import argparse

HELP = "print the spec JSON Schema (or the Markdown reference)"


def add_parser(sub) -> None:
    p = sub.add_parser("schema", help=HELP)
    p.add_argument(
        "--format",
        choices=["json", "markdown"],
        default="json",
        help="the JSON Schema (for editors), or the Markdown reference (docs/spec-reference.md)",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from peftspec.spec import reference

    text = reference.json_schema_text() if args.format == "json" else reference.reference_markdown()
    print(text, end="" if text.endswith("\n") else "\n")
    return 0

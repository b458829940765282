"""`peftspec lint PATH...`: check spec files in well under a second (no model is loaded)."""

from __future__ import annotations

import argparse
import sys

from peftspec.cli.common import add_set, color

HELP = "check spec files (fast, no model loaded)"


def add_parser(sub) -> None:
    p = sub.add_parser("lint", help=HELP)
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders (searched recursively)")
    p.add_argument(
        "--format",
        choices=["text", "json", "github"],
        default="text",
        help="text for people, json for tools, github for workflow annotations on the spec lines",
    )
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument(
        "--specs-only",
        action="store_true",
        help="skip TOML files that are not peftspec specs (pyproject.toml, ...): for hooks given every TOML",
    )
    add_set(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from peftspec.spec import lint

    result = lint.lint(args.paths, args.set, specs_only=args.specs_only)
    formatters = {
        "json": lint.as_json,
        "github": lint.as_github,
        "text": lambda r: lint.as_text(r, color(sys.stdout)),
    }
    print(formatters[args.format](result))
    return result.exit_code(args.strict)

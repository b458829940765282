"""`peftspec render SPEC`: the spec with every default filled in and paths resolved, as TOML."""

from __future__ import annotations

import argparse

from peftspec.cli.common import add_set, load_for_command

HELP = "print a spec with every default filled in, as TOML"


def add_parser(sub) -> None:
    p = sub.add_parser("render", help=HELP)
    p.add_argument("spec", metavar="SPEC", help="the spec file")
    add_set(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from peftspec import __version__
    from peftspec.spec.render import render_spec

    spec = load_for_command(args.spec, args.set).spec
    print(render_spec(spec, header=f"Resolved by peftspec {__version__} from {args.spec}"), end="")
    return 0

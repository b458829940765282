"""The `peftspec` command line: parses arguments, calls the library, prints.

Exit codes: 0 success; 1 problems found (invalid spec, failed run); 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _color(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def cmd_lint(args: argparse.Namespace) -> int:
    from peftspec.spec import lint

    try:
        result = lint.lint(args.paths, args.set)
    except lint.NoSpecsFound as exc:
        print(f"peftspec lint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    formatters = {
        "json": lint.as_json,
        "github": lint.as_github,
        "text": lambda r: lint.as_text(r, _color(sys.stdout)),
    }
    print(formatters[args.format](result))
    return result.exit_code(args.strict)


def _load_or_report(path: str, overrides: Sequence[str]):
    """The spec report; its problems (and warnings) are printed like `lint` prints them."""
    from peftspec.spec import check_spec, lint

    report = check_spec(path, overrides)
    if report.diagnostics:
        result = lint.LintResult([path], [report])
        print(lint.as_text(result, _color(sys.stderr)), file=sys.stderr)
    return report


def cmd_render(args: argparse.Namespace) -> int:
    from peftspec import __version__
    from peftspec.spec.render import render_spec

    if not os.path.isfile(args.spec):
        print(f"peftspec render: {args.spec}: no such spec file", file=sys.stderr)
        return EXIT_USAGE
    spec = _load_or_report(args.spec, args.set).spec
    if spec is None:
        return EXIT_PROBLEMS
    print(render_spec(spec, header=f"Resolved by peftspec {__version__} from {args.spec}"), end="")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    if not os.path.isfile(args.spec):
        print(f"peftspec run: {args.spec}: no such spec file", file=sys.stderr)
        return EXIT_USAGE
    report = _load_or_report(args.spec, args.set)
    if report.spec is None:
        return EXIT_PROBLEMS
    try:
        from peftspec.compile.runner import RunRequest, execute
        from peftspec.compile.summary import print_outcome
    except ImportError as exc:
        if (exc.name or "").startswith("peftspec"):
            raise
        print(
            f"peftspec run needs the training extras ({exc.name} is missing): pip install 'peftspec[train]'",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    return _run(execute, print_outcome, RunRequest(report.spec, report.files, list(args.set), args.dry_run))


def _run(execute, print_outcome, request) -> int:
    from rich.console import Console

    from peftspec.compile.model import ModelError
    from peftspec.compile.problems import DataError

    console = Console()
    err = Console(stderr=True)
    try:
        outcome = execute(request, console)
    except DataError as exc:
        err.print(f"[bold red]The data cannot be used[/] ({len(exc.errors)} problem(s)):")
        for problem in exc.problems:
            colour = "red" if problem.severity == "error" else "yellow"
            err.print(f"  [{colour}]{problem.severity}[/]: ", end="")
            err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        return EXIT_PROBLEMS
    except ModelError as exc:
        err.print("[bold red]Cannot build the model:[/] ", end="")
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        return EXIT_PROBLEMS
    except Exception as exc:
        if os.environ.get("PEFTSPEC_DEBUG"):
            raise
        err.print(f"[bold red]The run failed:[/] {type(exc).__name__}: ", end="")
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        err.print("The traceback is in the run's run.json (or set PEFTSPEC_DEBUG=1 to see it here).")
        return EXIT_PROBLEMS
    print_outcome(outcome, console)
    return EXIT_OK


def _summaries(args: argparse.Namespace, runs: list[str]):
    from peftspec.report.select import RunNotFound, resolve_runs
    from peftspec.report.summary import summarize

    try:
        paths = resolve_runs(runs, args.root)
    except RunNotFound as exc:
        print(f"peftspec {args.command}: {exc}", file=sys.stderr)
        return None
    summaries = [summarize(p) for p in paths]
    for summary in summaries:
        for warning in summary.run.warnings:
            print(f"warning: {summary.name}: {warning}", file=sys.stderr)
    return summaries


def cmd_compare(args: argparse.Namespace) -> int:
    from peftspec.report import compare

    runs = list(args.runs) + ([args.baseline] if args.baseline else [])
    summaries = _summaries(args, runs)
    if summaries is None:
        return EXIT_USAGE
    baseline = summaries[-1].name if args.baseline else None
    rows = compare.comparison_rows(summaries, args.split, baseline)
    if args.format == "table":
        from rich.console import Console

        console = Console()
        if not console.is_terminal:
            console = Console(width=1000)  # piped or redirected: never squeeze numbers
        console.print(compare.as_rich_table(rows, baseline))
    else:
        formats = {"json": compare.as_json, "csv": compare.as_csv, "markdown": compare.as_markdown}
        print(formats[args.format](rows), end="" if args.format != "json" else "\n")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    summaries = _summaries(args, args.runs)
    if summaries is None:
        return EXIT_USAGE
    try:
        from peftspec.report.build import build_report
    except ImportError as exc:
        print(
            f"peftspec report needs matplotlib ({exc.name} is missing): pip install 'peftspec[train]'",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    path = build_report(summaries, Path(args.output), args.split)
    print(f"Wrote {path} and {path.with_suffix('.html')}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from peftspec.spec import reference

    text = reference.json_schema_text() if args.format == "json" else reference.reference_markdown()
    print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from peftspec.spec.starter import starter_toml

    if os.path.exists(args.path) and not args.force:
        print(f"peftspec init: {args.path} exists; use --force to overwrite", file=sys.stderr)
        return EXIT_USAGE
    with open(args.path, "w", encoding="utf-8") as fh:
        fh.write(starter_toml())
    print(f"Wrote {args.path}. Edit the data path and labels, then: peftspec lint {args.path}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from peftspec import __version__

    parser = argparse.ArgumentParser(
        prog="peftspec",
        description="Declarative PEFT fine-tuning for text classification.",
        epilog="Exit codes: 0 success, 1 problems found, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"peftspec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    set_help = "override a spec value before validation, e.g. --set trainer.learning_rate=2e-4"
    p = sub.add_parser("lint", help="check spec files (fast, no model loaded)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders (searched recursively)")
    p.add_argument("--format", choices=["text", "json", "github"], default="text")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("run", help="train as the spec says and record the run")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, load the data, build the model and print the plan; do not train",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("render", help="print a spec with every default filled in, as TOML")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    p.set_defaults(func=cmd_render)

    runs_help = "a run directory, a glob, or a run name prefix under --root"
    p = sub.add_parser("compare", help="compare recorded runs side by side")
    p.add_argument("runs", nargs="+", metavar="RUN", help=runs_help)
    p.add_argument("--format", choices=["table", "markdown", "csv", "json"], default="table")
    p.add_argument("--baseline", metavar="RUN", help="show each run's difference from this run")
    p.add_argument("--split", choices=["validation", "test"], default="validation")
    p.add_argument("--root", default="runs", help="where run name prefixes are looked up (default: runs)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write a Markdown and HTML report of recorded runs")
    p.add_argument("runs", nargs="+", metavar="RUN", help=runs_help)
    p.add_argument("-o", "--output", default="report", help="output folder (default: report)")
    p.add_argument("--split", choices=["validation", "test"], default="validation")
    p.add_argument("--root", default="runs", help="where run name prefixes are looked up (default: runs)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("schema", help="print the spec JSON Schema (or the Markdown reference)")
    p.add_argument("--format", choices=["json", "markdown"], default="json")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("init", help="write a commented starter spec")
    p.add_argument("path", nargs="?", default="spec.toml", metavar="PATH")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_init)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK

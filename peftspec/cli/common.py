"""What several commands share: the `--set` option, the RUN selection, loading a spec for a command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from peftspec.errors import UsageError

SET_HELP = "override a spec value before validation, e.g. --set trainer.learning_rate=2e-4"


def table_console():
    """A rich console for tables: the terminal's, or, piped or redirected, one 1,000 columns wide, so
    that no number is squeezed, no column dropped and no name cut."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=1000)


def add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)


def add_run_selection(p: argparse.ArgumentParser, required: bool = True) -> None:
    """RUN arguments, the split to show, and where run name prefixes are looked up."""
    p.add_argument(
        "runs",
        nargs="+" if required else "*",
        metavar="RUN",
        help="a run directory, a glob, a run name prefix under --root, a group's id (NAME-gSTAMP: its "
        "seeds or folds), or STUDY:best (a sweep's best trial)",
    )
    p.add_argument(
        "--split",
        default=None,
        help="validation, test, or the name of a `peftspec evaluate` evaluation (default: test where "
        "every run has one, else validation)",
    )
    add_root(p)


def add_root(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", default="runs", help="where run name prefixes are looked up (default: runs)")


def add_one_run(p: argparse.ArgumentParser, several: bool = False) -> None:
    """A RUN argument (several, each naming one run, with `several`) and where prefixes are looked up."""
    help_text = "a run directory, a run name prefix under --root, or STUDY:best (a sweep's best trial)"
    if several:
        p.add_argument("runs", nargs="+", metavar="RUN", help=help_text + "; several may be given")
    else:
        p.add_argument("run", metavar="RUN", help=help_text)
    add_root(p)


def one_run(argument: str, root: str) -> str:
    """The run directory that a RUN argument names; a prefix or glob that names several is refused."""
    from peftspec.runs import resolve_runs

    found = resolve_runs([argument], root)
    if len(found) > 1:
        names = ", ".join(p.name for p in found[:4]) + (" ..." if len(found) > 4 else "")
        raise UsageError(f"{argument!r} names {len(found)} runs ({names})", hint=_one_of(argument, found))
    return str(found[0])


def _one_of(argument: str, found) -> str:
    """How to name one run where `argument` named several: one group's runs each hold a model (its
    seeds, its folds), and a cross-validated sweep trial has the command that trains one."""
    from peftspec.runs import read_run

    runs = [read_run(path) for path in found]
    first, group = runs[0], runs[0].record.group
    if group is None or {run.record.group.id if run.record.group else None for run in runs} != {group.id}:
        return "name one: its directory or a longer prefix"
    hint = f"they are the {len(found)} runs of group {group.id}, a model each: name one run's directory"
    if argument.endswith(":best"):  # a cross-validated trial
        from peftspec.sweep.report import retrain_command

        hint += f", or train one model with the trial's values: {retrain_command(first)}"
    return hint + " (peftspec runs lists them)"


def color(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def load_for_command(path: str, overrides: Sequence[str]):
    """The checked spec (`LoadResult`); its warnings are printed as `lint` prints them, and an
    invalid spec raises `SpecError` (rendered the same way)."""
    from peftspec.spec.lint import checked_spec

    return checked_spec(path, overrides, sys.stderr, color(sys.stderr))


def runs_for(args: argparse.Namespace, names: list[str]):
    """The `Run`s that RUN arguments name, their read warnings printed."""
    from peftspec.runs import read_run, resolve_runs

    runs = [read_run(p) for p in resolve_runs(names, args.root)]
    for run in runs:
        for warning in run.warnings:
            print(f"warning: {run.name}: {warning}", file=sys.stderr)
    return runs


def with_baseline(args: argparse.Namespace, runs: list):
    """`runs` with the `--baseline` runs among them (first, when they were not named among them),
    and the baseline run: a group's id or a prefix naming its runs makes the whole group the
    baseline; one run directory, that run (its group where the group is shown)."""
    if not args.baseline:
        return runs, None
    matched = runs_for(args, [args.baseline])
    if len({run.record.group.id if run.record.group else run.name for run in matched}) > 1:
        raise UsageError(f"--baseline {args.baseline} matches several runs; name one run or one group")
    shown = {run.name for run in runs}
    return [*(run for run in matched if run.name not in shown), *runs], matched[0]

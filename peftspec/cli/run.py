"""`peftspec run SPEC` (train and record), `--resume RUN` (continue), `--nproc-per-node N` (torchrun)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from peftspec.cli.common import add_root, add_set, load_for_command, one_run
from peftspec.cli.errors import run_failed
from peftspec.cli.replicates import add_replicate_options, fold_count, replicate_seeds
from peftspec.errors import UsageError, missing_extra
from peftspec.runs.layout import is_run_dir

HELP = "train as the spec says and record the run"


def add_parser(sub) -> None:
    p = sub.add_parser("run", help=HELP)
    p.add_argument("spec", metavar="SPEC", nargs="?", help="the spec (with --resume: a changed spec)")
    add_set(p)
    p.add_argument(
        "--dry-run", action="store_true", help="validate, load the data, build the model and print the plan"
    )
    p.add_argument(
        "--resume",
        metavar="RUN",
        help="continue a run from its newest complete checkpoint (a directory, or a prefix under --root)",
    )
    add_root(p)
    p.add_argument("--nproc-per-node", type=int, metavar="N", help="processes (GPUs) per node, via torchrun")
    p.add_argument("--nnodes", type=int, metavar="M", help="nodes taking part (default: the spec's, or 1)")
    p.add_argument("--node-rank", type=int, default=0, metavar="R", help="this node's rank (0 .. M-1)")
    p.add_argument("--master-addr", default="127.0.0.1", metavar="A", help="address of the rank-0 node")
    p.add_argument("--master-port", type=int, default=29500, metavar="P", help="its port (default 29500)")
    add_replicate_options(p)
    p.add_argument(
        "--force",
        action="append",
        default=[],
        metavar="KEYS",
        help="with --resume: spec keys allowed to differ (trainer.epochs,trainer.max_steps), or `data`",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.spec is None and args.resume is None:
        raise UsageError("give a SPEC to run, or --resume RUN")
    if args.resume is not None and not Path(args.resume).exists():  # a name prefix
        args.resume = one_run(args.resume, args.root)
    if args.spec and is_run_dir(args.spec):
        again = f"peftspec run {Path(args.spec) / 'spec.toml'}"
        hint = f"to train its recorded spec again: {again}; to continue it: peftspec run --resume {args.spec}"
        raise UsageError(f"{args.spec} is a run directory, not a spec", hint=hint)
    loaded = load_for_command(args.spec, args.set) if args.spec else None
    seeds = replicate_seeds(args, loaded.spec if loaded else None)
    folds = fold_count(args, loaded.spec if loaded else None)
    try:
        from peftspec import api
        from peftspec.report.final import print_outcome
        from peftspec.train.launch import launch_request, relaunch
    except ImportError as exc:
        raise missing_extra(exc, "run") from None
    spec = loaded.spec if loaded else None
    source = spec or (_recorded_spec(args.resume) if args.resume else None)
    dist = source.distributed if source is not None else None
    launch = launch_request(
        args.nproc_per_node or (dist.processes_per_node if dist else 1),
        args.nnodes or (dist.nodes if dist else 1),
        args.node_rank,
        args.master_addr,
        args.master_port,
    )
    if launch is not None:
        passthrough = [*([args.spec] if args.spec else []), *(f"--set={s}" for s in args.set)]
        if args.resume:
            passthrough += ["--resume", args.resume, *(f"--force={f}" for f in args.force)]
        return relaunch(launch, passthrough)
    from rich.console import Console

    from peftspec.build.environment import world
    from peftspec.sweep.trial import trial_record

    console = Console(quiet=not world().main)  # under torchrun every rank checks the same data: rank 0 speaks
    try:
        if seeds is not None or folds is not None:
            group = (
                api.run_replicates(args.spec, args.set, seeds, vary_split=args.vary_split)
                if seeds is not None
                else api.run_folds(args.spec, args.set, folds)
            )
            for outcome in group:
                print_outcome(outcome, console)
            sys.stdout.flush()
            return 0
        if args.resume is not None:
            force = [k.strip() for item in args.force for k in item.split(",") if k.strip()]
            outcome = api.resume_run(args.resume, spec, force, console=console)
            if outcome is not None:
                print_outcome(outcome, console)
            for later in api.continue_group(args.resume, console=console):  # a group's runs left
                print_outcome(later, console)
            sys.stdout.flush()
            return 0
        outcome = api.run_spec(
            spec, loaded.files, list(args.set), dry_run=args.dry_run, console=console, record=trial_record()
        )
    except Exception as exc:
        from peftspec.errors import UserError

        if isinstance(exc, UserError) or os.environ.get("PEFTSPEC_DEBUG"):
            raise
        return run_failed(exc)
    print_outcome(outcome, console)
    sys.stdout.flush()
    return 0


def _recorded_spec(run_dir: str):
    """The spec a run recorded (for its [distributed] settings); resume reports an unreadable one."""
    from peftspec.runs import RunPaths
    from peftspec.spec import SpecError, load_spec

    path = RunPaths(Path(run_dir)).spec
    try:
        return load_spec(path) if path.is_file() else None
    except (SpecError, OSError):
        return None

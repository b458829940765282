"""The `peftspec` command line: parses arguments, calls the library, prints.

Exit codes: 0 success; 1 problems found (invalid spec, failed run); 2 usage error;
130 / 143 a run stopped by SIGINT / SIGTERM after writing a checkpoint (resumable).
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


def _extras_missing(exc: ImportError, command: str) -> None:
    """Explain a missing optional dependency; a missing peftspec module is a bug and is raised."""
    if (exc.name or "").startswith("peftspec"):
        raise exc
    print(
        f"peftspec {command} needs the training extras ({exc.name} is missing): "
        "pip install 'peftspec[train]'",
        file=sys.stderr,
    )


def _load_or_report(path: str, overrides: Sequence[str]):
    """The spec report; its problems (and warnings) are printed like `lint` prints them."""
    from peftspec.spec import check_spec, lint

    report = check_spec(path, overrides)
    if report.diagnostics:
        result = lint.LintResult([path], [report])
        print(lint.as_text(result, _color(sys.stderr)), file=sys.stderr)
    return report


def cmd_check(args: argparse.Namespace) -> int:
    from rich.console import Console

    from peftspec.spec.lint import NoSpecsFound, find_specs

    try:
        files = find_specs(args.paths)
    except NoSpecsFound as exc:
        print(f"peftspec check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        from peftspec.check.output import as_json, print_check, summary
        from peftspec.check.runner import CheckOptions, check_file
        from peftspec.build.environment import quiet_libraries
    except ImportError as exc:
        _extras_missing(exc, "check")
        return EXIT_PROBLEMS
    quiet_libraries()
    console = Console()
    options = CheckOptions(steps=args.steps, keep_root=args.keep, overrides=args.set)
    checks = []
    for file in files:
        checks.append(check_file(file, options))
        if args.format == "text":
            print_check(checks[-1], console)
    print(as_json(checks) if args.format == "json" else summary(checks))
    return EXIT_PROBLEMS if any(c.status == "failed" for c in checks) else EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from rich.console import Console

    if not os.path.isfile(args.spec):
        print(f"peftspec plan: {args.spec}: no such spec file", file=sys.stderr)
        return EXIT_USAGE
    report = _load_or_report(args.spec, args.set)
    if report.spec is None:
        return EXIT_PROBLEMS
    try:
        from peftspec.check.toy import ToyError, real_config
        from peftspec.plan import advice as pm
        from peftspec.build.environment import quiet_libraries
    except ImportError as exc:
        _extras_missing(exc, "plan")
        return EXIT_PROBLEMS
    quiet_libraries()
    spec = report.spec
    try:
        budget = pm.parse_size(args.gpu_memory) if args.gpu_memory else None
        config, source = real_config(spec.backbone)
    except (pm.BudgetError, ToyError) as exc:
        print(f"peftspec plan: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, pm.BudgetError) else EXIT_PROBLEMS
    precision = "fp32" if spec.trainer.precision == "fp32" else "bf16"
    labels = pm.label_count(spec)
    params = pm.parameter_bytes(spec, config, labels)
    est = pm.estimate(spec, config, labels, precision=precision, params=params)
    fits = budget is None or est.total <= budget * pm.HEADROOM
    advice = [] if fits else pm.advise(spec, config, labels, precision, budget, params)
    console = Console()
    console.print(f"architecture from {source}")
    return EXIT_OK if pm.render_estimate(spec, est, budget, advice, console) else EXIT_PROBLEMS


def cmd_runs(args: argparse.Namespace) -> int:
    from rich.console import Console

    from peftspec.runs.reader import list_runs

    if not os.path.isdir(args.root):
        print(f"peftspec runs: {args.root}: no such folder", file=sys.stderr)
        return EXIT_USAGE
    console = Console()
    runs = list_runs(args.root)
    console.print(_runs_table(runs, args.root))
    if args.gc:
        _collect_checkpoints(runs, args.yes, console)
    return EXIT_OK


def _runs_table(runs, root: str):
    from rich.table import Table
    from rich.text import Text

    from peftspec.runs.checkpoints import checkpoint_folders

    table = Table(title=Text(f"{len(runs)} run(s) in {root}"), title_justify="left")
    table.add_column("run", no_wrap=True)
    for column in ("status", "steps", "started", "checkpoints"):
        table.add_column(column)
    for run in runs:
        steps = run.info.get("steps") or run.info.get("step") or 0
        total = (run.info.get("plan") or {}).get("total_steps")
        count = len(checkpoint_folders(run.paths.checkpoints))
        started = str(run.info.get("started_at", "-"))[:19]
        table.add_row(
            Text(run.name), Text(run.status), f"{steps}/{total}" if total else str(steps), started, str(count)
        )
    return table


def _collect_checkpoints(runs, yes: bool, console) -> None:
    """Show the checkpoints completed runs no longer need; remove them when confirmed (or --yes)."""
    import shutil

    from rich.text import Text

    from peftspec.runs.gc import removable

    removals = [r for run in runs for r in removable(run)]
    if not removals:
        console.print("Nothing to remove: completed runs keep only their best and latest checkpoints.")
        return
    total = sum(r.size for r in removals) / 2**20
    for r in removals:
        console.print(Text(f"  remove {r.folder}  ({r.size / 2**20:.1f} MiB)"), soft_wrap=True)
    console.print(f"{len(removals)} checkpoint(s), {total:.1f} MiB; each run's best and latest stay.")
    if not (yes or (sys.stdin.isatty() and input("Remove them? [y/N] ").strip().lower() == "y")):
        console.print("Nothing removed (pass --yes to remove without asking).")
        return
    for r in removals:
        shutil.rmtree(r.folder)
    console.print(f"Removed {len(removals)} checkpoint(s), {total:.1f} MiB.")


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
    if args.spec is None and args.resume is None:
        print("peftspec run: give a SPEC to run, or --resume RUN_DIR", file=sys.stderr)
        return EXIT_USAGE
    if args.spec is not None and not os.path.isfile(args.spec):
        print(f"peftspec run: {args.spec}: no such spec file", file=sys.stderr)
        return EXIT_USAGE
    report = _load_or_report(args.spec, args.set) if args.spec else None
    if report is not None and report.spec is None:
        return EXIT_PROBLEMS
    try:
        from peftspec.train.resume import ResumeRequest, resume
        from peftspec.train.runner import RunRequest, execute
        from peftspec.train.outcome import print_outcome
    except ImportError as exc:
        _extras_missing(exc, "run")
        return EXIT_PROBLEMS
    launch = _launch_request(args, report.spec if report else _recorded_spec(args.resume))
    if launch is not None:
        return _launch(args, launch)
    if args.resume is not None:
        force = [k.strip() for item in args.force for k in item.split(",") if k.strip()]
        request = ResumeRequest(Path(args.resume), report.spec if report else None, force)
        return _run(resume, print_outcome, request)
    return _run(execute, print_outcome, RunRequest(report.spec, report.files, list(args.set), args.dry_run))


def _recorded_spec(run_dir: str | None):
    """The resolved spec a run recorded (for its [distributed] settings), or None."""
    from peftspec.spec import load_spec

    path = Path(run_dir or "") / "spec.toml"
    try:
        return load_spec(path) if run_dir and path.is_file() else None
    except Exception:
        return None  # resume reports an unreadable spec itself


def _launch_request(args: argparse.Namespace, spec):
    """A torchrun launch when more than one process is asked for and this is not one of them."""
    from peftspec.train.distributed import Launch

    if "WORLD_SIZE" in os.environ or spec is None:
        return None
    dist = spec.distributed
    nproc = args.nproc_per_node or dist.processes_per_node
    nnodes = args.nnodes or dist.nodes
    if nproc * nnodes <= 1:
        return None
    return Launch(nproc, nnodes, args.node_rank, args.master_addr, args.master_port)


def _launch(args: argparse.Namespace, launch) -> int:
    """Run this same command under torchrun (torch.distributed.run); its exit code is ours."""
    import subprocess

    from peftspec.train.distributed import torchrun_command

    passthrough = [*([args.spec] if args.spec else []), *(f"--set={s}" for s in args.set)]
    if args.resume:
        passthrough += ["--resume", args.resume, *(f"--force={f}" for f in args.force)]
    command = torchrun_command(launch, passthrough)
    print(
        f"launching {launch.nproc_per_node} process(es) per node on {launch.nnodes} node(s): "
        + " ".join(command[1:]),
        file=sys.stderr,
    )
    return subprocess.call(command)


def _run(execute, print_outcome, request) -> int:
    from rich.console import Console

    from peftspec.train.interrupt import RunInterrupted
    from peftspec.build.model import ModelError
    from peftspec.build.problems import DataError
    from peftspec.train.resume import ResumeRefused
    from peftspec.runs.lock import RunLocked

    console = Console()
    err = Console(stderr=True)
    try:
        outcome = execute(request, console)
    except RunInterrupted as exc:
        err.print(f"[bold yellow]Interrupted:[/] {exc}. Resume with:", highlight=False)
        err.print(f"  peftspec run --resume {exc.run_dir}", markup=False, highlight=False, soft_wrap=True)
        return exc.exit_code
    except (ResumeRefused, RunLocked) as exc:
        err.print(
            "[bold red]Cannot resume:[/] " if isinstance(exc, ResumeRefused) else "[bold red]Busy:[/] ",
            end="",
        )
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        return EXIT_PROBLEMS
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
    if outcome is not None:  # None: a resumed run that had already completed
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
        _extras_missing(exc, "report")
        return EXIT_PROBLEMS
    path = build_report(summaries, Path(args.output), args.split)
    print(f"Wrote {path} and {path.with_suffix('.html')}")
    return EXIT_OK


def _load_for_inference(args: argparse.Namespace):
    try:
        from peftspec.inference.loaded import RunNotUsable, load_run
    except ImportError as exc:
        _extras_missing(exc, args.command)
        return None
    try:
        return load_run(args.run, getattr(args, "batch_size", None))
    except (RunNotUsable, FileNotFoundError) as exc:
        print(f"peftspec {args.command}: {exc}", file=sys.stderr)
        return None


def cmd_predict(args: argparse.Namespace) -> int:
    from rich.console import Console

    from peftspec.build.problems import DataError
    from peftspec.inference.label_file import label_frame, read_input, write_output

    err = Console(stderr=True)
    loaded = _load_for_inference(args)
    if loaded is None:
        return EXIT_PROBLEMS
    column = args.text_column or loaded.spec.dataset.text_column
    try:
        frame = read_input(args.input, column)
        with _progress(err, frame.height) as advance:
            labelling = label_frame(loaded, frame, column, loaded.spec.dataset.text_pair_column, advance)
        write_output(labelling.frame, args.output)
    except (DataError, ValueError) as exc:
        err.print(f"peftspec predict: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_PROBLEMS
    if labelling.empty_rows:
        shown = ", ".join(map(str, labelling.empty_rows[:10])) + (
            " ..." if len(labelling.empty_rows) > 10 else ""
        )
        err.print(
            f"warning: {len(labelling.empty_rows)} row(s) with empty text were not labelled "
            f"(kept in the output with no prediction): rows {shown}",
            markup=False,
            soft_wrap=True,
        )
    if args.output:
        err.print(f"Labelled {labelling.frame.height:,} rows -> {args.output}", markup=False)
    return EXIT_OK


def _progress(console, total: int):
    """A progress bar over rows on a terminal (and for more than a few batches); silent otherwise."""
    import contextlib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not console.is_terminal or total < 256:
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def bar():
        with Progress(
            TextColumn("labelling"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("rows", total=total)
            yield lambda n: progress.advance(task, n)

    return bar()


def cmd_evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from peftspec.build.problems import DataError
    from peftspec.train.outcome import metrics_table
    from peftspec.inference.score import evaluate_file

    loaded = _load_for_inference(args)
    if loaded is None:
        return EXIT_PROBLEMS
    try:
        name, metrics = evaluate_file(loaded, args.data, args.name)
    except DataError as exc:
        Console(stderr=True).print(str(exc), markup=False, highlight=False, soft_wrap=True)
        return EXIT_PROBLEMS
    console = Console()
    console.print(metrics_table({name: metrics}, splits=[name]))
    console.print(f"Recorded in {loaded.run.paths.root}/eval-{name}.json")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from peftspec.inference.export import ExportRefused, export_run

    try:
        out = export_run(args.run, Path(args.output), merge=args.merge, dtype=args.dtype, fmt=args.format)
    except ExportRefused as exc:
        print(f"peftspec export: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"Exported {args.run} -> {out}" + (" (merged)" if args.merge else ""))
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from peftspec.tui.app import PeftspecApp
    except ImportError as exc:
        if (exc.name or "").startswith(("tui", "peftspec")):
            raise
        print(f"peftspec tui needs textual ({exc.name} is missing): pip install peftspec", file=sys.stderr)
        return EXIT_PROBLEMS
    if not os.path.isdir(args.root):
        print(
            f"peftspec tui: {args.root}: no such folder (runs appear here once `peftspec run` writes them)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    PeftspecApp(args.root).run()
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


def _add_run_selection(p: argparse.ArgumentParser) -> None:
    """RUN arguments, the split to show, and where run name prefixes are looked up."""
    p.add_argument(
        "runs", nargs="+", metavar="RUN", help="a run directory, a glob, or a run name prefix under --root"
    )
    p.add_argument(
        "--split",
        default="validation",
        help="validation, test, or the name of a `peftspec evaluate` evaluation",
    )
    p.add_argument("--root", default="runs", help="where run name prefixes are looked up (default: runs)")


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
    p.add_argument("spec", metavar="SPEC", nargs="?", help="the spec (with --resume: a changed spec)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, load the data, build the model and print the plan; do not train",
    )
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its newest complete checkpoint")
    p.add_argument("--nproc-per-node", type=int, metavar="N", help="processes (GPUs) per node, via torchrun")
    p.add_argument("--nnodes", type=int, metavar="M", help="nodes taking part (default: the spec's, or 1)")
    p.add_argument("--node-rank", type=int, default=0, metavar="R", help="this node's rank (0 .. M-1)")
    p.add_argument("--master-addr", default="127.0.0.1", metavar="A", help="address of the rank-0 node")
    p.add_argument("--master-port", type=int, default=29500, metavar="P", help="its port (default 29500)")
    p.add_argument(
        "--force",
        action="append",
        default=[],
        metavar="KEYS",
        help="with --resume: spec keys allowed to differ (trainer.epochs,trainer.max_steps), or `data`",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="run specs end to end on the CPU with toy backbones (about a minute)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders (searched recursively)")
    p.add_argument("--steps", type=int, default=4, help="training steps per spec (default: 4)")
    p.add_argument("--keep", metavar="DIR", help="keep the toy runs under DIR (default: a temporary folder)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("plan", help="estimate peak GPU memory before any download, and what makes it fit")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument(
        "--gpu-memory", metavar="SIZE", help="the card's memory (24GiB, 80GB); exit 1 if it does not fit"
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("runs", help="list runs with their status (crashed ones too); --gc trims checkpoints")
    p.add_argument("root", nargs="?", default="runs", metavar="PATH", help="folder of run directories")
    p.add_argument("--gc", action="store_true", help="remove checkpoints other than the best and the latest")
    p.add_argument("--yes", action="store_true", help="with --gc: remove without asking")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("render", help="print a spec with every default filled in, as TOML")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("compare", help="compare recorded runs side by side")
    p.add_argument("--format", choices=["table", "markdown", "csv", "json"], default="table")
    p.add_argument("--baseline", metavar="RUN", help="show each run's difference from this run")
    _add_run_selection(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write a Markdown and HTML report of recorded runs")
    p.add_argument("-o", "--output", default="report", help="output folder (default: report)")
    _add_run_selection(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="label a file (or stdin lines) with a trained run")
    p.add_argument("run", metavar="RUN", help="a run directory")
    p.add_argument("input", metavar="INPUT", help="csv, tsv, jsonl, json or parquet file; - for stdin lines")
    p.add_argument("-o", "--output", help="output file (.parquet, .csv or .jsonl); default: jsonl on stdout")
    p.add_argument("--text-column", help="the column to label (default: the run's text column)")
    p.add_argument("--batch-size", type=int, help="rows per batch (default: the run's eval batch size)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="score a trained run on another labelled file")
    p.add_argument("run", metavar="RUN", help="a run directory")
    p.add_argument("data", metavar="DATA", help="a labelled file in the run's data layout")
    p.add_argument("--name", help="name of this evaluation (default: the file name)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="export a run's adapter, or a merged standard HF model")
    p.add_argument("run", metavar="RUN", help="a run directory")
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
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("tui", help="browse, follow and compare runs in the terminal")
    p.add_argument("root", nargs="?", default="runs", metavar="PATH", help="folder of run directories")
    p.set_defaults(func=cmd_tui)

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

"""What `peftspec run` prints at the end: the final metrics as a table and where the run is."""

from __future__ import annotations

from peftspec.train.runner import RunOutcome

SKIP = {"runtime", "samples_per_second"}


def metrics_table(evaluation: dict, splits: list[str] | None = None):
    from rich.table import Table

    splits = splits or [k for k in ("validation", "test") if k in evaluation]
    names = (
        [k for k, v in evaluation[splits[0]].items() if isinstance(v, float) and k not in SKIP]
        if splits
        else []
    )
    table = Table(title="Final evaluation", title_justify="left")
    table.add_column("metric")
    for split in splits:
        table.add_column(split, justify="right")
    for name in names:
        table.add_row(name, *(_fmt(evaluation[s].get(name)) for s in splits))
    mode = evaluation.get("thresholds", {}).get("mode")
    if mode == "tuned":
        table.caption = "thresholds tuned per label on validation (validation figures are optimistic)"
    return table


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-"


def print_outcome(outcome: RunOutcome, console) -> None:
    if outcome.evaluation is None:
        if outcome.paths is None:
            console.print("Dry run: nothing trained.")
        return  # otherwise a rank other than 0: rank 0 reports
    console.print(metrics_table(outcome.evaluation))
    console.print(f"Run directory: [bold]{outcome.paths.root}[/]")

"""The final metrics as a table: what `peftspec run` and `peftspec evaluate` print at the end."""

from __future__ import annotations

from peftspec.metrics.registry import METRICS
from peftspec.runs.layout import AT_HALF_KEY, CROSSFIT_KEY
from peftspec.runs.reader import calibration_phrase, threshold_protocol, threshold_scope, usable_calibration

SKIP = {"runtime", "samples_per_second"}


def metrics_table(evaluation: dict, splits: list[str] | None = None):
    """A row per scalar metric, a column per split (and per split at threshold 0.5 for tuned runs);
    with tuned thresholds, a line under it for each column saying what it was decided with."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    splits = splits or [k for k in ("validation", "test") if k in evaluation]
    names = (
        [k for k, v in evaluation[splits[0]].items() if isinstance(v, float) and k not in SKIP]
        if splits
        else []
    )
    columns = []
    for split in splits:
        columns.append((split, evaluation[split]))
        if isinstance(evaluation[split].get(CROSSFIT_KEY), dict):
            columns.append((f"{split} cross-fit", evaluation[split][CROSSFIT_KEY]))
        if isinstance(evaluation[split].get(AT_HALF_KEY), dict):
            columns.append((f"{split} @0.5", evaluation[split][AT_HALF_KEY]))
    table = Table(title="Final evaluation", title_justify="left")
    table.add_column("metric", no_wrap=True, min_width=max(map(len, names), default=6))  # names whole
    for title, _ in columns:
        table.add_column(title, justify="right")
    for name in names:
        table.add_row(name, *(_fmt(values.get(name)) for _, values in columns))
    thresholds = evaluation.get("thresholds") or {}
    protocol = threshold_protocol(thresholds)
    notes = _notes(thresholds, [t for t, _ in columns]) if protocol is not None else []
    free = [name for name in names if name in METRICS and METRICS[name].from_scores]
    if free and protocol is not None:  # the same under any thresholds: one figure a split
        notes.append(f"{', '.join(free)}: from the scores, so no threshold decides them")
    calibration = thresholds.get("calibration")
    if usable_calibration(calibration):
        fitted = calibration.get("fitted_on") or "validation"
        notes.append(
            f"scores: {calibration_phrase(calibration)}; {fitted}'s ece and brier at it are "
            f"optimistic, its cross-fit column's are not (each half's temperature fitted on the other)"
        )
    if not notes:
        return table
    return Group(table, *(Text(f"  {line}", style="dim") for line in notes))


def _notes(thresholds: dict, titles: list[str]) -> list[str]:
    """How tuned thresholds were chosen, what each column shown was decided with, and which figures
    to report, a line each."""
    tuned_on = thresholds.get("tuned_on") or "validation"
    notes = [f"thresholds {threshold_protocol({**thresholds, 'report': None})}"]
    for title in titles:
        if title == tuned_on:
            notes.append(f"{title}: at those thresholds, so optimistic (tuned on these rows)")
        elif title.endswith(" cross-fit"):
            notes.append(f"{title}: each half decided by thresholds tuned on the other half")
        elif title.endswith(" @0.5"):
            binary = threshold_scope(thresholds) == "positive_class"
            notes.append(f"{title}: " + ("the arg-max (0.5)" if binary else "every label at threshold 0.5"))
        else:
            notes.append(f"{title}: at those thresholds (tuned on {tuned_on}, not on these rows)")
    if thresholds.get("report"):
        notes.append(f"figures to report: {thresholds['report']}")
    return notes


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-"


def print_warnings(console, warnings, about: str = "") -> None:
    """Each of `warnings` on a line of its own, `warning: [about: ]text`, as `peftspec run` and
    `evaluate` print them."""
    from rich.text import Text

    for warning in warnings:
        console.print(Text.assemble(("warning", "yellow"), f": {about}{warning}"), soft_wrap=True)


def print_outcome(outcome, console) -> None:
    """What `peftspec run` prints at the end: the final table, the evaluation's warnings and the
    data's again (seen rows make the figures above optimistic), where the run is (`outcome`: a
    `peftspec.train.RunOutcome`)."""
    from peftspec.runs import read_run

    if outcome.evaluation is None:
        if outcome.paths is None:
            console.print("Dry run: nothing trained.")
        return  # otherwise a rank other than 0: rank 0 reports
    console.print(metrics_table(outcome.evaluation))
    print_warnings(console, outcome.evaluation.get("warnings") or [])
    print_warnings(console, read_run(outcome.paths.root).record.data_warnings, about="data: ")
    console.print(f"Run directory: [bold]{outcome.paths.root}[/]")

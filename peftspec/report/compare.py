"""`peftspec compare`: one row per run, as a terminal table, Markdown, CSV or JSON."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from peftspec.metrics.registry import METRICS, headline_metrics, scalar_metrics
from peftspec.report.columns import (
    AT_HALF,
    Column,
    best_values,
    caption,
    cell,
    is_best,
    shown_columns,
    with_deltas,
)
from peftspec.report.settings import SETTINGS_CAPTION, set_apart, settings_table
from peftspec.runs import Run, group_name, grouped, mean_sd
from peftspec.runs.layout import AT_HALF_KEY, CROSSFIT_KEY
from peftspec.runs.reader import fixed_threshold
from peftspec.runs.record import task_line
from peftspec.runs.stream import number


def default_split(runs: list[Run], requested: str | None = None) -> str:
    """The split a comparison shows: `requested`, else test where every run was scored on one (the
    thresholds and the best checkpoint were chosen on validation, so test is the fair ranking),
    else validation."""
    if requested:
        return requested
    return "test" if runs and all(run.split_metrics("test") for run in runs) else "validation"


def run_row(run: Run, split: str = "validation") -> dict[str, Any]:
    """One run's comparison row: every value traced to its record, metric stream or evaluations."""
    metrics = run.split_metrics(split)
    overview = run.record.overview
    thresholds = run.thresholds_used()
    mode = thresholds.get("mode")
    crossfit = metrics.get(CROSSFIT_KEY) if isinstance(metrics.get(CROSSFIT_KEY), dict) else None
    if crossfit is not None:  # tuned on this split: its honest figures are the cross-fitted ones
        metrics = {**metrics, **crossfit}
    at_half = metrics.get(AT_HALF_KEY) if isinstance(metrics.get(AT_HALF_KEY), dict) else None
    if at_half is None and mode == "fixed" and fixed_threshold(thresholds) == 0.5:
        at_half = metrics  # recorded at 0.5 already
    return {
        "run": run.name,
        "name": run.display_name,
        "status": run.status,
        "backbone": run.record.backbone,
        "adapter": run.record.adapter,
        "quantization": run.record.quantization,
        "final_train_loss": run.final_train_loss,
        "best_train_loss": run.best_train_loss,
        "val_loss": number(run.split_metrics("validation").get("loss")),
        **{name: number(metrics.get(name)) for name in scalar_metrics()},
        **{f"{name}{AT_HALF}": number((at_half or {}).get(name)) for name in headline_metrics()},
        "eval_samples_per_second": number(metrics.get("samples_per_second")),
        "trainable_parameters": overview.trainable_parameters if overview else None,
        "wall_time_s": run.record.duration_s,
        "thresholds": mode,
        "thresholds_tuned_on": thresholds.get("tuned_on") if mode == "tuned" else None,
        "crossfit": crossfit is not None and mode == "tuned",
        "calibrated_on": (run.calibration() or {}).get("fitted_on"),
        "calibration_crossfit": crossfit is not None
        and any(name in crossfit for name, metric in METRICS.items() if metric.fitted_by_temperature),
        "split": split,
        **scored_on(run, split),
    }


def scored_on(run: Run, split: str) -> dict[str, Any]:
    """What a run's figures on `split` were scored on, as far as its record says: the task, the
    number of labels and of rows (`scored_on`; for an extra evaluation, its rows and file) and a
    digest of the label names (`label_set`). Runs that differ here are not ranked against each other."""
    import hashlib

    record = run.record
    if not record.task or not record.labels:
        return {"scored_on": None, "label_set": None, "source": None}
    rows, source = record.rows.get(split), run.evaluation_source(split)  # source: `peftspec evaluate`'s
    on = task_line(record.task, len(record.labels), record.positive_class)
    on += f", {source}" if source else f", {rows:,} {split} rows" if rows else ""
    digest = hashlib.sha256("\x1f".join(record.labels).encode()).hexdigest()[:12]
    return {"scored_on": on, "label_set": digest, "source": source}


def comparison_rows(
    runs: list[Run], split: str = "validation", baseline: str | None = None, group: bool = True
) -> list[dict[str, Any]]:
    """A row per run, or per group of replicates (`group`: mean of its seeds, `<key>_std` their
    standard deviation), with `<key>_delta` against the row whose `run` is `baseline`, if given;
    `name` is the short name tables show, `run` the folder (or group id) that identifies the row."""
    from peftspec.runs import short_names

    names = short_names(runs)
    rows = []
    for members in grouped(runs) if group else [[run] for run in runs]:
        if len(members) == 1:
            rows.append({**run_row(members[0], split), "name": names[members[0].name]})
        else:
            rows.append(group_row(members, split))
    distinct_group_names(rows)
    return with_deltas(rows, baseline) if baseline else rows


def distinct_group_names(rows: list[dict[str, Any]]) -> None:
    """Groups that share a name (one spec cross-validated twice with other `--set`s) get their
    start time (`cv (5 folds) 12-04 04:18`), or where even that is shared their id: the rows, and
    the differences matched to them by name, stay apart."""
    from collections import Counter

    for rename in (_with_start, lambda row: str(row["run"])):
        counts = Counter(row["name"] for row in rows)
        for row in rows:
            if counts[row["name"]] > 1 and row.get("members"):
                row["name"] = rename(row)


def _with_start(row: dict[str, Any]) -> str:
    """A group's name and the minute it started, read off its id (`NAME-g20261204T041838Z`)."""
    from peftspec.runs.groups import GROUP_ID

    found = GROUP_ID.search(str(row["run"]))
    if found is None:
        return str(row["run"])
    _, month, day, hour, minute, _ = found.groups()
    return f"{row['name']} {month}-{day} {hour}:{minute}"


def group_row(members: list[Run], split: str) -> dict[str, Any]:
    """One row for a group of replicates: each number the mean over the seeds that have it, with
    `<key>_std` (sample standard deviation); `members` and `seeds` name the runs behind it (a
    group of folds: `folds`, and each member's `fold`)."""
    rows = [run_row(run, split) for run in members]
    out: dict[str, Any] = dict(rows[0])
    for key in dict.fromkeys(k for r in rows for k in r):
        values = [
            r[key] for r in rows if isinstance(r.get(key), int | float) and not isinstance(r[key], bool)
        ]
        if values:
            out[key], out[f"{key}_std"] = mean_sd(values)
    statuses = sorted({r["status"] for r in rows})
    out.update(
        run=members[0].record.group.id,
        name=group_name(members),
        status=statuses[0] if len(statuses) == 1 else "/".join(statuses),
        members=[run.name for run in members],
        seeds=[run.record.seed for run in members],
    )
    group = members[0].record.group
    if group is not None and group.folds:  # k-fold: which fold each member validated on
        out.update(folds=group.folds, fold=[run.record.group.index for run in members])
    return out


@dataclass
class Compared:
    """What `peftspec compare` shows: the rows, the baseline row's `run`, the significance."""

    rows: list[dict[str, Any]]
    split: str
    baseline: str | None = None
    comparison: Any = None
    """A `significance.Comparison` when a baseline was given (and significance not turned off)."""
    note: str | None = None
    """Why there is no significance although it was asked for (a run without predictions)."""
    settings: list[tuple[str, list[str]]] = field(default_factory=list)
    """The spec keys that set the rows apart, each row's value (`settings.set_apart`)."""

    @property
    def baseline_name(self) -> str | None:
        return next((r["name"] for r in self.rows if r["run"] == self.baseline), None)


def compare_runs(
    runs: list[Run],
    baseline: Run | None = None,
    split: str | None = None,
    *,
    group: bool = True,
    significance: bool = True,
    resamples: int = 10_000,
    seed: int = 0,
    columns: list[str] | None = None,
) -> Compared:
    """Rows for `runs` (groups of replicates as one row unless `group` is off) on `split` (default:
    test where every run has one); with a `baseline` run (its group, when grouped), each row's
    difference to it and, with `significance`, a paired bootstrap of every difference: of the
    headline metrics, or of the metrics among `columns` when they are named (so Holm's correction
    counts only the metrics chosen to be shown)."""
    everything = list({run.name: run for run in [*runs, *([baseline] if baseline else [])]}.values())
    split = default_split(everything, split)
    rows = comparison_rows(everything, split, group=group)
    settings = _settings(everything, rows)
    if baseline is None:
        return Compared(rows, split, settings=settings)
    base = next(r for r in rows if baseline.name in r.get("members", [r["run"]]))
    rows = with_deltas(rows, base["run"])
    result = Compared(rows, split, base["run"], settings=settings)
    if significance and len(rows) > 1:
        from peftspec.report.significance import NoPredictions

        try:
            result.comparison = _significance(everything, rows, base, split, resamples, seed, columns)
        except NoPredictions as exc:
            result.note = exc.message
    return result


def _settings(runs: list[Run], rows: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """What sets the rows apart (`settings.set_apart`), each key also on every row as
    `spec.<key>` for JSON and CSV."""
    by_name = {run.name: run for run in runs}
    specs = [[by_name[name].spec_dict() for name in row.get("members", [row["run"]])] for row in rows]
    settings = set_apart(specs)
    for key, values in settings:
        for row, value in zip(rows, values):
            row[f"spec.{key}"] = value
    return settings


def _significance(runs: list[Run], rows, base, split: str, resamples: int, seed: int, columns=None):
    from peftspec.report import significance

    by_name = {run.name: run for run in runs}

    def members(row) -> list[Run]:
        return [by_name[name] for name in row.get("members", [row["run"]])]

    tasks = {(run.record.task, len(run.record.labels)) for run in runs}
    if len(tasks) > 1:
        raise significance.Unpaired(
            "these runs solve different tasks or label sets: "
            + ", ".join(f"{t} with {n} labels" for t, n in sorted(tasks, key=str))
        )
    task, classes = tasks.pop()
    chosen = headline_metrics() if columns is None else [c for c in columns if c in METRICS]
    metrics = [m for m in chosen if task in METRICS[m].tasks]
    others = {row["name"]: members(row) for row in rows if row["run"] != base["run"]}
    comparison = significance.compare(
        members(base), others, split, metrics, task or "multi_label", classes, resamples, seed, base["name"]
    )
    from peftspec.report.significance_table import attach

    attach(rows, comparison)
    return comparison


def as_json(rows: list[dict[str, Any]]) -> str:
    """Strict JSON: a value that is not a finite number is written as null."""
    from peftspec.runs.writer import to_json

    return to_json(rows).rstrip("\n")


def as_csv(rows: list[dict[str, Any]]) -> str:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def ranked_cells(rows: list[dict[str, Any]], columns: list[Column], mark) -> list[list[str]]:
    best = best_values(rows, columns)
    table = []
    for row in rows:
        cells = []
        for column in columns:
            text = cell(row, column)
            cells.append(mark(text) if is_best(row, column, best) else text)
        table.append(cells)
    return table


def markdown_table(header: list[str], rows: list[list[str]], numeric: list[bool]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if right else "---" for right in numeric) + "|",
    ]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in rows]


def as_markdown(rows: list[dict[str, Any]], comparison=None, settings=(), keys=None) -> str:
    """The table (of the columns `keys`, else every one there is), its caption, what sets the rows
    apart, and with a `significance.Comparison` the differences to the baseline with their protocol."""
    columns = shown_columns(rows, keys)
    cells = ranked_cells(rows, columns, lambda t: f"**{t}**")
    lines = markdown_table([c.title for c in columns], cells, [c.key != "name" for c in columns])
    text = "\n".join(lines) + "\n" + f"\n{caption(rows, columns)}\n"
    if settings:
        header, cells = settings_table(rows, list(settings))
        table = markdown_table(header, cells, [False] * len(header))
        text += "\n" + "\n".join(table) + f"\n\n{SETTINGS_CAPTION}\n"
    if comparison is not None:
        from peftspec.report.significance_table import significance_table

        found = significance_table(comparison)
        table = markdown_table(found.header, found.rows, found.numeric)
        text += "\n" + "\n".join(table) + "\n\n" + comparison.protocol() + "\n"
    return text


def as_latex(rows: list[dict[str, Any]], comparison=None, settings=(), keys=None) -> str:
    """What `as_markdown` says, as booktabs table floats to paste into a paper: each table with its
    caption (the split, how the figures were decided; the bootstrap's protocol) and a label."""
    from peftspec.report.document import Bold, Table
    from peftspec.report.latex import snippet, table_float

    columns = shown_columns(rows, keys)
    cells = ranked_cells(rows, columns, Bold)
    runs = Table([c.title for c in columns], cells, [c.key != "name" for c in columns])
    floats = [table_float(runs, caption(rows, columns), "tab:peftspec-runs")]
    if settings:
        header, cells = settings_table(rows, list(settings))
        floats.append(table_float(Table(header, cells), SETTINGS_CAPTION, "tab:peftspec-settings"))
    if comparison is not None:
        from peftspec.report.significance_table import significance_table

        floats.append(
            table_float(significance_table(comparison), comparison.protocol(), "tab:peftspec-significance")
        )
    return snippet(floats, "peftspec compare")


def as_rich_significance(comparison):
    """The differences to the baseline as a terminal table, the protocol as its caption."""
    from rich.table import Table
    from rich.text import Text

    from peftspec.report.significance_table import significance_table

    table = Table(title=f"Against {comparison.baseline}", title_justify="left")
    found = significance_table(comparison)
    for i, title in enumerate(found.header):
        table.add_column(title, justify="right" if i >= 2 else "left", no_wrap=i >= 2)
    for cells in found.rows:
        style = "bold green" if cells[-1].startswith("yes") else ""
        table.add_row(*(Text(c, style=style if i >= 2 else "") for i, c in enumerate(cells)))
    table.caption = comparison.protocol()
    table.caption_justify = "left"
    return table


def as_rich_settings(rows: list[dict[str, Any]], settings: list[tuple[str, list[str]]]):
    """What sets the rows apart, as a terminal table."""
    from rich.table import Table
    from rich.text import Text

    header, cells = settings_table(rows, settings)
    table = Table(
        title="Set apart by", title_justify="left", caption=SETTINGS_CAPTION, caption_justify="left"
    )
    for title in header:
        table.add_column(title)
    for row in cells:
        table.add_row(*(Text(c) for c in row))
    return table


def as_rich_table(rows: list[dict[str, Any]], baseline: str | None = None, keys=None):
    from rich.table import Table
    from rich.text import Text

    columns = shown_columns(rows, keys)
    table = Table(title="Runs" + (f" (deltas against {baseline})" if baseline else ""), title_justify="left")
    for column in columns:
        numeric = column.key != "name"
        table.add_column(column.title, justify="right" if numeric else "left", no_wrap=numeric)
    for cells in ranked_cells(rows, columns, lambda t: Text(t, style="bold green")):
        table.add_row(*(c if isinstance(c, Text) else Text(c) for c in cells))
    table.caption = caption(rows, columns)
    table.caption_justify = "left"
    return table

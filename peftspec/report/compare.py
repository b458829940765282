"""`peftspec compare`: one row per run, as a terminal table, Markdown, CSV or JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

from peftspec.metrics.registry import headline_metrics, scalar_metrics
from peftspec.report.columns import (
    AT_HALF,
    Column,
    best_values,
    caption,
    fmt,
    fmt_delta,
    is_best,
    present_columns,
    with_deltas,
)
from peftspec.runs import Run
from peftspec.runs.layout import AT_HALF_KEY
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
    at_half = metrics.get(AT_HALF_KEY) if isinstance(metrics.get(AT_HALF_KEY), dict) else None
    if at_half is None and mode == "fixed" and set((thresholds.get("values") or {}).values()) == {0.5}:
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
        "split": split,
    }


def comparison_rows(
    runs: list[Run], split: str = "validation", baseline: str | None = None
) -> list[dict[str, Any]]:
    """A row per run (with `<key>_delta` against the run named `baseline`, if given); `name` is
    the short name tables show, `run` the folder that identifies the run."""
    from peftspec.runs import short_names

    names = short_names(runs)
    rows = [{**run_row(run, split), "name": names[run.name]} for run in runs]
    return with_deltas(rows, baseline) if baseline else rows


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


def _cells(rows: list[dict[str, Any]], columns: list[Column], mark) -> list[list[str]]:
    best = best_values(rows, columns)
    table = []
    for row in rows:
        cells = []
        for column in columns:
            text = fmt(row.get(column.key), column) + fmt_delta(row.get(f"{column.key}_delta"), column)
            cells.append(mark(text) if is_best(row, column, best) else text)
        table.append(cells)
    return table


def as_markdown(rows: list[dict[str, Any]]) -> str:
    columns = present_columns(rows)
    lines = [
        "| " + " | ".join(c.title for c in columns) + " |",
        "|" + "|".join("---" if c.key == "name" else "---:" for c in columns) + "|",
    ]
    for cells in _cells(rows, columns, lambda t: f"**{t}**"):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n" + f"\n{caption(rows)}\n"


def as_rich_table(rows: list[dict[str, Any]], baseline: str | None = None):
    from rich.table import Table
    from rich.text import Text

    columns = present_columns(rows)
    table = Table(title="Runs" + (f" (deltas against {baseline})" if baseline else ""), title_justify="left")
    for column in columns:
        numeric = column.key != "name"
        table.add_column(column.title, justify="right" if numeric else "left", no_wrap=numeric)
    for cells in _cells(rows, columns, lambda t: Text(t, style="bold green")):
        table.add_row(*(c if isinstance(c, Text) else Text(c) for c in cells))
    table.caption = caption(rows)
    table.caption_justify = "left"
    return table

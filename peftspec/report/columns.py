"""The columns of a comparison, which way is better, and how to show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    better: str | None = None  # "max", "min" or None (not ranked)
    digits: int = 4


AT_HALF = "@0.5"
"""Suffix of the columns scored with every label at threshold 0.5 (beside a tuned run's figures)."""


def _metric_columns() -> list[Column]:
    from peftspec.metrics.registry import METRICS, headline_metrics, scalar_metrics

    recorded = [Column(name, METRICS[name].title, METRICS[name].direction) for name in scalar_metrics()]
    at_half = [
        Column(f"{name}{AT_HALF}", f"{METRICS[name].title} {AT_HALF}", METRICS[name].direction)
        for name in headline_metrics()
    ]
    return recorded + at_half


COLUMNS = [
    Column("name", "run"),  # the short name; `run` (the folder) identifies the row
    Column("final_train_loss", "train loss (final)"),  # a training loss ranks nothing
    Column("best_train_loss", "train loss (best)"),
    Column("val_loss", "val loss", "min"),
    *_metric_columns(),
    Column("eval_samples_per_second", "eval samples/s", "max", 1),
    Column("trainable_parameters", "trainable params", None, 0),
    Column("wall_time_s", "wall time (s)", "min", 1),
]
"""Every column a comparison can show, metric columns from the registry (title and direction)."""


def caption(rows: list[dict[str, Any]], shown: list[Column] | None = None) -> str:
    """What a comparison table must say under it: the split, and how the figures were decided when
    thresholds were tuned (and so which figures are not ranked); `shown`: the table's columns, when
    not all of them (the @0.5 columns are explained only when shown)."""
    at_half = shown is None or any(c.key.endswith(AT_HALF) for c in shown)
    split = rows[0].get("split") if rows else "validation"
    different = different_data(rows)
    sources = {r["source"] for r in rows if r.get("source")}
    text = f"Split: {split}" + (f", {sources.pop()}." if len(sources) == 1 and not different else ".")
    if different:
        text += " " + different
    if any(r.get("crossfit") for r in rows):
        text += (
            " Runs that tuned their thresholds on this split show cross-fitted figures: each half "
            "of it decided by thresholds tuned on the other half."
        )
    if any(r.get("thresholds") == "tuned" for r in rows):
        here = any(r.get("thresholds_tuned_on") == r.get("split") and not r.get("crossfit") for r in rows)
        text += (
            " Figures are at each run's recorded thresholds; `tuned` runs tuned theirs on validation "
            "(for the metric each names)"
            + (", so their figures here are optimistic and not ranked (never bold)" if here else "")
            + (
                f". Columns marked {AT_HALF} score every label at threshold 0.5"
                + (" (a binary task: its arg-max)" if any(_binary(r) for r in rows) else "")
                if at_half
                else ""
            )
            + "."
        )
    if any(r.get("calibration_crossfit") for r in rows):
        text += (
            " The ECE and Brier of runs calibrated on this split are cross-fitted: each half scored "
            "with a temperature fitted on the other half."
        )
    if any(calibrated_here(r) for r in rows):
        text += (
            f" Runs whose scores were calibrated by a temperature fitted on {split} "
            "(metrics.calibration) have optimistic ECE and Brier here, not ranked."
        )
    return text


def _binary(row: dict[str, Any]) -> bool:
    return str(row.get("scored_on") or "").startswith("binary")


def present_columns(rows: list[dict[str, Any]]) -> list[Column]:
    """Columns that at least one row has a value for; the @0.5 ones only beside a tuned run."""
    tuned = any(r.get("thresholds") == "tuned" for r in rows)
    return [
        c
        for c in COLUMNS
        if c.key == "name"
        or (any(r.get(c.key) is not None for r in rows) and (tuned or not c.key.endswith(AT_HALF)))
    ]


def column_keys(asked: str) -> list[str]:
    """The column keys a comma-separated list names (`jaccard, F1 macro, wall_time_s`: keys or
    titles, any case), in its order; an unknown one is a `UsageError` with the closest."""
    from peftspec.errors import UsageError
    from peftspec.spec.diagnostics import did_you_mean

    by_name = {c.key.casefold(): c.key for c in COLUMNS} | {c.title.casefold(): c.key for c in COLUMNS}
    keys = []
    for word in (w.strip() for w in asked.split(",")):
        if not word:
            continue
        key = by_name.get(word.casefold())
        if key is None:
            near = did_you_mean(word, [c.key for c in COLUMNS])
            hint = (
                f"did you mean {near!r}?" if near else "the columns: " + ", ".join(c.key for c in COLUMNS[1:])
            )
            raise UsageError(f"--columns: no column {word!r}", hint=hint)
        if key != "name" and key not in keys:
            keys.append(key)
    if not keys:
        raise UsageError("--columns names no column", hint="for example --columns jaccard,f1_micro,f1_macro")
    return keys


def shown_columns(rows: list[dict[str, Any]], keys: list[str] | None = None) -> list[Column]:
    """The columns a table shows: those of `keys`, in that order, after the run's name (each that
    some row has a value for); every present column when `keys` is None."""
    present = present_columns(rows)
    if keys is None:
        return present
    by_key = {c.key: c for c in present}
    return [present[0], *(by_key[k] for k in keys if k in by_key)]


def ranked(row: dict[str, Any], column: Column) -> bool:
    """Whether `row`'s value in `column` may be ranked: not a figure scored with thresholds tuned
    on the very rows it is scored on (its @0.5 figure may be, and so may one that no threshold
    decides, such as ROC AUC), nor a calibration figure (ECE, Brier) of scores whose temperature
    was fitted on them."""
    from peftspec.metrics.registry import METRICS

    metric = METRICS.get(column.key)
    if metric is None:
        return True
    tuned_here = row.get("thresholds_tuned_on") == row.get("split") and not row.get("crossfit")
    if tuned_here and metric.thresholds != "none":
        return False
    return not (calibrated_here(row) and metric.fitted_by_temperature)


def calibrated_here(row: dict[str, Any]) -> bool:
    """Whether the row's ECE and Brier are of scores calibrated by a temperature fitted on the rows
    compared (not cross-fitted: each half's temperature fitted on the other half)."""
    fitted = row.get("calibrated_on") is not None and row.get("calibrated_on") == row.get("split")
    return fitted and not row.get("calibration_crossfit")


def is_best(row: dict[str, Any], column: Column, best: set[tuple[str, str]]) -> bool:
    """Whether `row` holds the best ranked value of `column` (`best`: from `best_values`)."""
    return (row.get("run"), column.key) in best


def data_groups(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The rows by the data they were scored on (`scored_on` and `label_set`): only figures of one
    group may be ranked against each other. Rows that do not say (runs from before it was recorded)
    join the one group there is, or form their own beside several."""
    known = {(r["scored_on"], r.get("label_set")) for r in rows if r.get("scored_on") is not None}
    if len(known) <= 1:
        return [rows] if rows else []
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row.get("scored_on"), row.get("label_set")), []).append(row)
    return list(groups.values())


def different_data(rows: list[dict[str, Any]]) -> str | None:
    """What the caption says when the rows were scored on different data (another task, label set
    or number of rows); None when they agree."""
    groups = data_groups(rows)
    if len(groups) < 2:
        return None
    ons = [group[0].get("scored_on") or "not recorded" for group in groups]
    shown = "; ".join(
        f"{', '.join(str(r.get('name')) for r in group)}: {on}" for group, on in zip(groups, ons)
    )
    if len(set(ons)) < len(ons):
        shown += "; the label names differ"
    return (
        f"These runs were scored on different data ({shown}): a figure is ranked only against runs "
        "of the same data."
    )


def best_values(rows: list[dict[str, Any]], columns: list[Column]) -> set[tuple[str, str]]:
    """The (run, column) cells that hold the best value of a ranked column among the rows scored
    on the same data whose figure may be ranked (`is_best` reads it)."""
    best = set()
    for group in data_groups(rows):
        for column in columns:
            scored = [r for r in group if isinstance(r.get(column.key), int | float) and ranked(r, column)]
            if not column.better or len(scored) < 2:
                continue
            pick = max if column.better == "max" else min
            value = pick(r[column.key] for r in scored)
            best |= {(r["run"], column.key) for r in scored if r[column.key] == value}
    return best


def with_deltas(rows: list[dict[str, Any]], baseline: str) -> list[dict[str, Any]]:
    """Each row plus `<key>_delta` = value - baseline value, for every ranked column."""
    base = next(r for r in rows if r["run"] == baseline)
    out = []
    for row in rows:
        extra = {}
        for column in COLUMNS:
            value, ref = row.get(column.key), base.get(column.key)
            if column.better and isinstance(value, int | float) and isinstance(ref, int | float):
                extra[f"{column.key}_delta"] = value - ref
        out.append({**row, **extra})
    return out


def fmt(value: Any, column: Column) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{column.digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cell(row: dict[str, Any], column: Column) -> str:
    """A table cell: the value, `± std` over a group's seeds, `(+delta)` against a baseline."""
    std = row.get(f"{column.key}_std")
    spread = f" ± {std:,.{column.digits}f}" if isinstance(std, float) else ""
    return fmt(row.get(column.key), column) + spread + fmt_delta(row.get(f"{column.key}_delta"), column)


def fmt_delta(delta: float | None, column: Column) -> str:
    if delta is None:
        return ""
    return f" ({delta:+.{column.digits}f})"

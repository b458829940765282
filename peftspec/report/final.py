"""The final metrics as a table: what `peftspec run` and `peftspec evaluate` print at the end."""

from __future__ import annotations

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

"""A `significance.Comparison` as a table (for the terminal, Markdown, LaTeX and the report) and as
flat keys on the compared rows (for JSON and CSV)."""

from __future__ import annotations

from peftspec.report.document import Table
from peftspec.report.significance import Comparison


def _folds(comparison: Comparison) -> bool:
    return any(d.p_folds is not None for d in comparison.differences)


def significance_table(comparison: Comparison) -> Table:
    """One row per (run, metric): the difference, its interval, the p-values (the folds' too, for
    groups of folds), Holm's and the verdict (the last column)."""
    from peftspec.metrics.registry import METRICS

    folds = _folds(comparison)
    header = ["run", "metric", "difference", "95% interval", "p", *(["p (folds)"] if folds else [])]
    header += ["p (Holm)", "significant"]
    rows = []
    for d in comparison.differences:
        fold_p = [f"{d.p_folds:.4f}" if d.p_folds is not None else "-"] if folds else []
        rows.append(
            [
                d.name,
                METRICS[d.metric].title if d.metric in METRICS else d.metric,
                f"{d.delta:+.4f}",
                f"[{d.low:+.4f}, {d.high:+.4f}]",
                f"{d.p:.4f}",
                *fold_p,
                f"{d.p_holm:.4f}",
                "yes *" if d.significant else "no",
            ]
        )
    return Table(header, rows, [False, False, *([True] * (len(header) - 2))])


def attach(rows: list[dict], comparison: Comparison) -> None:
    """Flat `<metric>_low`, `_high`, `_p`, `_p_folds` (groups of folds), `_p_holm`, `_significant`
    keys on each compared row (for JSON and CSV), matched by the row's `name`."""
    by_name = {row["name"]: row for row in rows}
    for d in comparison.differences:
        row = by_name.get(d.name)
        if row is not None:
            row.update(
                {
                    f"{d.metric}_low": d.low,
                    f"{d.metric}_high": d.high,
                    f"{d.metric}_p": d.p,
                    **({f"{d.metric}_p_folds": d.p_folds} if d.p_folds is not None else {}),
                    f"{d.metric}_p_holm": d.p_holm,
                    f"{d.metric}_significant": d.significant,
                }
            )

"""Confusion matrices as coloured terminal heatmaps (Rich renderables)."""

from __future__ import annotations

from typing import Any

from rich.columns import Columns
from rich.table import Table
from rich.text import Text


def _cell(count: int, rate: float) -> Text:
    """Dark slate at 0%, bright blue at 100%; white text reads on both ends."""
    r, g, b = (int(40 + (20 - 40) * rate), int(44 + (110 - 44) * rate), int(52 + (225 - 52) * rate))
    return Text(f"{count:>5} {rate:>4.0%} ", style=f"bold white on rgb({r},{g},{b})")


def per_label(confusion: dict[str, Any], per_label_metrics: dict[str, Any]) -> Columns:
    """A 2x2 per label ([[tn, fp], [fn, tp]]), worst F1 first, with counts and row rates."""
    names = sorted(confusion["matrices"], key=lambda n: (per_label_metrics.get(n) or {}).get("f1", 0.0))
    tables = []
    for name in names:
        (tn, fp), (fn, tp) = confusion["matrices"][name]
        f1 = (per_label_metrics.get(name) or {}).get("f1")
        title = Text(name) + Text(f"  F1 {f1:.2f}" if f1 is not None else "", style="dim")
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("gold \\ pred")
        table.add_column("not")
        table.add_column("is")
        neg, pos = max(tn + fp, 1), max(fn + tp, 1)
        table.add_row("not", _cell(tn, tn / neg), _cell(fp, fp / neg))
        table.add_row("is", _cell(fn, fn / pos), _cell(tp, tp / pos))
        tables.append(table)
    return Columns(tables, padding=(1, 3))


def matrix(confusion: dict[str, Any], normalised: bool) -> Table:
    """NxN, rows = gold; colour by row rate; cells show counts, or rates when `normalised`."""
    labels = confusion["labels"]
    rows = confusion["matrix"]
    table = Table(
        title="rows = gold, columns = predicted" + (" (row-normalised)" if normalised else ""),
        title_justify="left",
    )
    table.add_column("gold \\ pred")
    for label in labels:
        table.add_column(Text(label), justify="right")
    for label, row in zip(labels, rows):
        total = max(sum(row), 1)
        cells = []
        for count in row:
            rate = count / total
            cell = _cell(count, rate)
            if normalised:
                cell = Text(f"{rate:>6.1%}", style=cell.style)
            cells.append(cell)
        table.add_row(Text(label), *cells)
    return table

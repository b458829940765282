"""Confusion matrices as coloured terminal heatmaps (Rich renderables)."""

from __future__ import annotations

from typing import Any

from rich.columns import Columns
from rich.console import Group
from rich.table import Table
from rich.text import Text

SHORT = 5
"""Characters a label keeps as a column header of the NxN matrix (its row keeps the full name)."""


def _style(rate: float) -> str:
    """Dark slate at 0%, bright blue at 100%; white text reads on both ends."""
    r, g, b = (int(40 + (20 - 40) * rate), int(44 + (110 - 44) * rate), int(52 + (225 - 52) * rate))
    return f"bold white on rgb({r},{g},{b})"


def _cell(count: int, rate: float, normalised: bool) -> Text:
    return Text(f"{rate:>5.0%}" if normalised else f"{count:>5}", style=_style(rate))


def abbreviations(labels: list[str], width: int = SHORT) -> list[str]:
    """Each label cut to `width` characters, longer where two would read the same; distinct labels
    always get distinct abbreviations."""
    out = []
    for label in labels:
        n = width
        while n < len(label) and sum(other[:n] == label[:n] for other in labels) > 1:
            n += 1
        out.append(label[:n])
    if len(set(out)) < len(out):  # a label that is a prefix of another: fall back to the full names
        return list(labels)
    return out


def per_label(
    confusion: dict[str, Any], per_label_metrics: dict[str, Any], normalised: bool = False
) -> Columns:
    """A 2x2 per label ([[tn, fp], [fn, tp]]), worst F1 first: counts, or row rates when `normalised`."""
    names = sorted(confusion["matrices"], key=lambda n: (per_label_metrics.get(n) or {}).get("f1", 0.0))
    tables = []
    for name in names:
        (tn, fp), (fn, tp) = confusion["matrices"][name]
        f1 = (per_label_metrics.get(name) or {}).get("f1")
        title = Text(name) + Text(f"  F1 {f1:.2f}" if f1 is not None else "", style="dim")
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("gold \\ pred")
        table.add_column("not", justify="right")
        table.add_column("is", justify="right")
        neg, pos = max(tn + fp, 1), max(fn + tp, 1)
        table.add_row("not", _cell(tn, tn / neg, normalised), _cell(fp, fp / neg, normalised))
        table.add_row("is", _cell(fn, fn / pos, normalised), _cell(tp, tp / pos, normalised))
        tables.append(table)
    return Columns(tables, padding=(1, 3))


def matrix(confusion: dict[str, Any], normalised: bool) -> Group:
    """NxN, rows = gold; colour by row rate; cells show counts, or rates when `normalised`. Column
    headers are abbreviated (the rows name each label in full), so 11 classes fit in 80 columns; a
    larger matrix scrolls."""
    labels = confusion["labels"]
    rows = confusion["matrix"]
    short = abbreviations(labels)
    title = "rows = gold, columns = predicted; " + (
        "row rates" if normalised else "counts, colour = row rate"
    )
    table = Table(
        box=None,
        padding=(0, 0, 0, 1),
    )
    table.add_column("gold \\ pred", no_wrap=True)
    for label in short:
        table.add_column(Text(label), justify="right", no_wrap=True, min_width=5)
    for label, row in zip(labels, rows):
        total = max(sum(row), 1)
        table.add_row(Text(label), *(_cell(count, count / total, normalised) for count in row))
    return Group(Text(title), table)

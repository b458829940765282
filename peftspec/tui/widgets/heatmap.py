"""Confusion matrices as coloured terminal heatmaps: Rich renderables for the per-label 2x2s, rows of
cells for the NxN matrix's table."""

from __future__ import annotations

from typing import Any

from rich.columns import Columns
from rich.table import Table
from rich.text import Text

SHORT = 5
"""Characters a label keeps as a column header of the NxN matrix (its row keeps the full name)."""
NUMBERED = 8
"""The longest abbreviation used as a column header; labels that cannot be told apart in fewer
characters (`intent_card_payment_fee_charged`, `intent_card_payment_not_recognised`) are numbered,
their rows numbered alike."""


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


def headers(labels: list[str]) -> tuple[list[str], list[str]]:
    """(column headers, row names): abbreviations and full names, or, where an abbreviation would be
    longer than `NUMBERED`, numbers for the columns and the same numbers before the row names."""
    short = abbreviations(labels)
    if max(map(len, short), default=0) <= NUMBERED:
        return short, list(labels)
    width = len(str(len(labels)))
    return [str(i) for i in range(1, len(labels) + 1)], [f"{i:>{width}} {n}" for i, n in enumerate(labels, 1)]


def matrix_key(normalised: bool) -> str:
    """How to read the NxN matrix."""
    return "rows = gold, columns = predicted; " + ("row rates" if normalised else "counts, colour = row rate")


def matrix_cells(confusion: dict[str, Any], normalised: bool) -> tuple[list[str], list[list[Text]]]:
    """The NxN matrix as a table's header and rows: rows = gold, each its label's name (full, or
    numbered as its column is, `headers`) then one cell per predicted class, coloured by row rate,
    showing counts, or rates when `normalised`."""
    columns, names = headers(confusion["labels"])
    rows = []
    for name, row in zip(names, confusion["matrix"]):
        total = max(sum(row), 1)
        rows.append([Text(name), *(Text(" ") + _cell(count, count / total, normalised) for count in row)])
    return ["gold \\ pred", *columns], rows

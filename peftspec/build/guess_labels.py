"""Which column(s) of a data file hold the labels, and their shape, for `peftspec init --data`:
two or more 0/1 columns (`one_hot`); else a list column, or one whose cells hold several names from
a small vocabulary split by `,` `;` `|` or a space (`delimited`); else one column of few distinct
values, by its name first (`label`, `class`, ...) (`single`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from peftspec.build.guess_columns import SAMPLE, Column, GuessError
from peftspec.build.labels import name_order

RARE = 0.25
"""Two classes, the rarer under this share of the rows: a detection task (spam, fraud, a defect),
set up as binary with the rare class positive and its threshold tuned."""

LABEL_NAMES = (
    "label", "labels", "class", "classes", "category", "categories", "target", "tag", "tags",
    "sentiment", "emotion", "emotions", "intent", "topic", "topics", "gold", "y",
)  # fmt: skip


def guess_labels(
    columns: list[Column], rows: int, data: str, order: dict[str, list[str]] | None = None
) -> tuple[dict[str, Any], str, str]:
    """(the labels table, why, the task); `order`: a column's class names in the dataset's order
    (a Hub dataset's `ClassLabel`)."""
    binaries = [c for c in columns if c.binary]
    if len(binaries) >= 2 and not any(c.name.lower() in LABEL_NAMES for c in binaries):
        names = [c.name for c in binaries]
        why = f"labels: {len(names)} columns of 0/1, one a label (one_hot): {', '.join(names)}"
        if all(c.unnamed for c in binaries):
            why += "; name them with dataset.labels.names"
        return {"format": "one_hot", "columns": names}, why, "multi_label"
    named = sorted((c for c in columns if c.name.lower() in LABEL_NAMES), key=_label_name_first)
    others = [c for c in columns if c.name.lower() not in LABEL_NAMES]
    for group in (named, others):  # a column named as labels first, whatever the others hold
        for column in group:
            delimiter = _delimiter(column)
            if delimiter is not None:
                return _delimited(column, delimiter)
        single = [c for c in group if not c.is_list and 2 <= c.distinct <= max(2, min(1000, rows // 2))]
        if single:  # of columns not named as labels the last, where label columns usually are
            chosen = single[0] if group is named else single[-1]
            if chosen.numeric and (names := _names_of(chosen, columns, rows)) is not None:
                return names
            return _single(chosen, [c.name for c in single], (order or {}).get(chosen.name))
    found = ", ".join(repr(c.name) for c in columns if not c.nested) or "none"
    nested = [c.name for c in columns if c.nested]
    said = f"; {', '.join(map(repr, nested))} holds lists of records, which are not labels" if nested else ""
    raise GuessError(
        f"{data}: no column looks like labels (columns left after the text and id: {found}){said}",
        hint="write the spec without --data (peftspec init) and set [dataset.labels] by hand",
    )


def other_labels(columns: list[Column], chosen: str, rows: int) -> list[str]:
    """The columns besides `chosen` that could hold the labels as well (a list a row, or a few
    classes): a file with several annotations (Label Studio's controls) says which it did not take."""
    return [
        c.name
        for c in columns
        if c.name != chosen
        and (_delimiter(c) is not None or (not c.is_list and 2 <= c.distinct <= max(2, min(1000, rows // 2))))
    ]


def _names_of(numbers: Column, columns: list[Column], rows: int) -> tuple[dict[str, Any], str, str] | None:
    """A class column of numbers beside a column of their names (`label` 0, 1, 2 and `label_text`
    negative, neutral, positive, row by row, one name a number): the names label the run, in the
    numbers' order when every row was looked at (else sorted, as for any names); None when no
    column names the numbers so."""
    for other in columns:
        if other is numbers or other.is_list or other.numeric or len(other.values) != len(numbers.values):
            continue
        pairs = set(zip(numbers.strings, other.strings))
        if len(pairs) != numbers.distinct or len({name for _, name in pairs}) != len(pairs):
            continue  # not one name a number, and one number a name
        by_number = dict(sorted(pairs, key=lambda p: float(p[0])))
        table, why, task = _single(other, [other.name], list(by_number.values()) if rows <= SAMPLE else None)
        shown = ", ".join(f"{k} {v}" for k, v in list(by_number.items())[:6]) + (
            ", ..." if len(pairs) > 6 else ""
        )
        why += f"; {numbers.name!r} holds the same classes as numbers ({shown})"
        if rows <= SAMPLE and "names" not in table:  # a rare positive class keeps its own order
            table["names"] = list(by_number.values())
        return table, why, task
    return None


def _delimited(column: Column, delimiter: str) -> tuple[dict[str, Any], str, str]:
    table = {"format": "delimited", "column": column.name}
    how = "a list in each row"
    if delimiter != "list":
        table["delimiter"] = delimiter
        how = f"names split by {delimiter!r}"
    why = f"labels: {{column}}, {how} (delimited, multi-label)"
    cells = column.values if column.is_list else [s.split(delimiter) for s in column.strings]
    if all(str(v).strip().lstrip("-").isdigit() for cell in cells for v in cell if str(v).strip()):
        why += (
            "; the labels are named by their values: if they are indices, set "
            'values = "indices" and names (or names_file)'
        )
    return table, why, "multi_label"


def _single(
    column: Column, candidates: list[str], order: list[str] | None = None
) -> tuple[dict[str, Any], str, str]:
    why = f"labels: {{column}}, one of {len(order or []) or column.distinct} classes a row (single)"
    detection = _detection(column, order)
    if detection is not None:
        table, note = detection
        return table, why + note, "binary"
    if (len(order) if order else column.distinct) == 2:
        second = (order or name_order(set(column.strings)))[1]  # the order the run will give them
        why += (
            f"; scored as 2 classes (macro averages), unless you set dataset.task = "
            f'"binary", which scores f1, precision and recall on {second!r} and can decide it at a '
            "tuned threshold"
        )
    if column.numeric:
        why += "; the classes are named by their values: give names with dataset.labels.names"
    others = [name for name in candidates if name != column.name]
    if others:
        why += f"; other columns of few values: {', '.join(map(repr, others))}"
    return {"format": "single", "column": column.name}, why, "multi_class"


def _detection(column: Column, order: list[str] | None) -> tuple[dict[str, Any], str] | None:
    """Two classes, one of them rare (under `RARE` of the rows): a binary task whose positive class
    is the rare one (the second name; for 0/1 or true/false cells, 1 or true) and whose threshold is
    tuned, as (the labels table, what to say); None otherwise."""
    classes = order or name_order(set(column.strings))  # the order the run will give them
    counts = Counter(column.strings)
    if len(classes) != 2 or not column.strings:
        return None
    rare = min(classes, key=lambda c: counts.get(c, 0))
    if counts.get(rare, 0) / len(column.strings) >= RARE:
        return None
    positive = classes[1] if column.binary else rare
    names = [c for c in classes if c != positive] + [positive]
    table: dict[str, Any] = {"format": "single", "column": column.name}
    if names != classes:
        table["names"] = names
    share = counts.get(positive, 0) / len(column.strings)
    note = (
        f"; task: binary, {positive!r} the positive class ({share:.0%} of the rows), decided at a "
        "threshold tuned on validation for its F1 ([metrics]; at the arg-max a rare class is seldom "
        'predicted); to score both classes alike instead, set task = "multi_class" and drop [metrics]'
    )
    return table, note


def _label_name_first(column: Column) -> tuple[int, int]:
    name = column.name.lower()
    return (0 if name in LABEL_NAMES else 1, LABEL_NAMES.index(name) if name in LABEL_NAMES else 0)


def _delimiter(column: Column) -> str | None:
    """`list` for a list column (or lists written out as text), the delimiter of several names per
    cell from a small vocabulary, or None."""
    if not column.values or column.nested:
        return None
    if column.is_list:
        return "list"
    if all(s.startswith("[") and s.endswith("]") for s in column.strings):
        return ","  # lists written out as text: the reader parses them
    if column.numeric and not any(d in s for s in column.strings for d in ",;|"):
        return None
    for delimiter in (",", ";", "|", " "):
        cells = [[p.strip() for p in s.split(delimiter) if p.strip()] for s in column.strings]
        several = sum(len(c) > 1 for c in cells)
        vocabulary = {p for c in cells for p in c}
        words = sum(map(len, cells)) / len(cells)
        small = len(vocabulary) <= min(200, max(len(cells) // 4, 2))
        if several >= max(1, 0.02 * len(cells)) and small and (delimiter != " " or words <= 5):
            return delimiter
    return None

"""What sets compared runs apart: the spec keys whose values differ between them, among those that
some run set away from the default. A LoRA run against an IA3 run differs in `adapter.kind` and
the keys either one chose (`adapter.target_modules`), not in every default that only one of the two
kinds has (`adapter.use_dora = false`). Keys that only name or file a run (`name`, `tracking`) and
the search space (`sweep`) are left out; a group's seeds or folds count as one row, its differing
values listed (`0, 1, 2`), so that replicates compared with replicates are not set apart by seed."""

from __future__ import annotations

from typing import Any

from peftspec.spec.flat import flatten

IGNORED = ("name", "description", "schema_version", "extends", "tracking", "sweep")
"""Top-level keys (and tables) that say nothing about what was trained."""
UNSET = "-"
UNREAD = "?"
"""A row whose recorded spec is missing or unreadable."""


def set_apart(rows: list[list[dict[str, Any]]]) -> list[tuple[str, list[str]]]:
    """(dotted key, each row's value as text) for the keys that set the rows apart; each row is
    the recorded specs of its runs (one, or a group's). A run whose spec could not be read (an
    empty dict) shows `?` and sets nothing apart."""
    flat = [[_kept(flatten(spec)) for spec in specs if spec] for specs in rows]
    chosen = set().union(*(_chosen(spec) for specs in rows for spec in specs if spec))
    seen = [k for k in dict.fromkeys(k for row in flat for f in row for k in f) if k in chosen]
    tables = list(dict.fromkeys(k.rpartition(".")[0] for k in seen))
    keys = sorted(seen, key=lambda k: tables.index(k.rpartition(".")[0]))  # spec order, tables together
    out = []
    for key in keys:
        values = [_row_value([f.get(key, UNSET) for f in row]) if row else UNREAD for row in flat]
        if len(set(values) - {UNREAD}) > 1:
            out.append((key, values))
    return out


def _kept(flat: dict[str, Any]) -> dict[str, str]:
    return {k: show(v) for k, v in flat.items() if k.split(".", 1)[0] not in IGNORED}


def _chosen(spec: dict[str, Any]) -> set[str]:
    """The keys that `spec` sets away from their defaults; every key of a spec this version cannot
    read (recorded by another), so that nothing is hidden for want of its defaults."""
    from peftspec.spec.root import Spec

    try:
        return set(flatten(Spec.model_validate(spec).model_dump(mode="json", exclude_defaults=True)))
    except Exception:  # whatever a stored spec does to the validator: show it whole
        return set(flatten(spec))


def _row_value(values: list[str]) -> str:
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else ", ".join(distinct)


def show(value: Any) -> str:
    """A value as a table cell: strings bare, lists in brackets, booleans as TOML writes them,
    floats to 6 significant digits (a searched learning rate is not 19 digits long)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def clipped(text: str, width: int = 48) -> str:
    """`text` in at most `width` characters: its start and its end (where a path names its file),
    an ellipsis between."""
    if len(text) <= width:
        return text
    tail = (width - 1) * 2 // 3
    return text[: width - 1 - tail] + "…" + text[-tail:]


SETTINGS_CAPTION = (
    "Spec keys whose values differ between the rows, among those that some run set away from the "
    "default (`-`: unset, so the default for the run, or a key its adapter or quantisation kind "
    "does not have; `?`: no readable spec.toml); a group lists its runs' values where they differ."
)


def settings_table(rows: list[dict[str, Any]], settings: list[tuple[str, list[str]]]):
    """(header, cells): each row's name and its value of every key that sets the rows apart (a long
    value, such as a data file's absolute path, cut in the middle: JSON and CSV keep it whole)."""
    header = ["run", *(key for key, _ in settings)]
    return header, [
        [row["name"], *(clipped(values[i]) for _, values in settings)] for i, row in enumerate(rows)
    ]


def settings_blocks(compared: Any) -> list:
    """The report's overview block: what sets the runs apart (`compared`: a `compare.Compared`)."""
    if not compared.settings:
        return []
    from peftspec.report.document import Heading, Para, Table

    header, cells = settings_table(compared.rows, compared.settings)
    return [Heading(3, "Set apart by"), Table(header, cells, [False] * len(header)), Para(SETTINGS_CAPTION)]

"""`peftspec check` output: a table per spec, located diagnostics under it, a summary line."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text

from peftspec.check.result import SpecCheck
from peftspec.spec.diagnostics import format_location

MARKS = {
    "passed": ("ok", "green"),
    "failed": ("FAIL", "bold red"),
    "skipped": ("skip", "yellow"),
    "unchecked": ("not on CPU", "dim"),
}


def print_check(check: SpecCheck, console) -> None:
    table = Table(title=Text(f"{check.file}: {check.status} in {check.seconds:.1f} s"), title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for item in check.items:
        mark, style = MARKS[item.status]
        table.add_row(Text(item.name), Text(mark, style=style), Text(item.detail))
    console.print(table)
    for item in check.items:
        for d in item.diagnostics:
            colour = "red" if d.severity == "error" else "yellow"
            console.print(
                Text.assemble(
                    (f"{format_location(d)}: ", "bold"), (d.severity, colour), f": {d.path}: {d.message}"
                ),
                soft_wrap=True,
            )
            if d.suggestion:
                console.print(Text(f"    did you mean {d.suggestion!r}?"), soft_wrap=True)
    if check.run_dir:
        console.print(Text(f"the toy run is kept in {check.run_dir}"), soft_wrap=True)


def as_json(checks: list[SpecCheck]) -> str:
    return json.dumps([c.as_dict() for c in checks], indent=2)


def summary(checks: list[SpecCheck]) -> str:
    counts = {s: sum(c.status == s for c in checks) for s in ("passed", "failed", "skipped")}
    total = sum(c.seconds for c in checks)
    return (
        f"{len(checks)} spec(s): "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + f" ({total:.1f} s)"
    )

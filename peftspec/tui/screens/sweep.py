"""The sweep view: every trial of the sweeps under the root (from the trials' own run records, no
Optuna needed), with state, values, metric and the best so far, live as trials finish; enter opens
a trial's run (a cross-validated trial's first fold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from peftspec.runs import read_run, run_dirs

STATE_STYLE = {
    "complete": "green",
    "running": "cyan",
    "pruned": "yellow",
    "failed": "red",
    "crashed": "bold red",
}


def trial_rows(root: Path) -> list[dict[str, Any]]:
    """One row per trial run under `root`: study, number, state, value, values, best so far."""
    rows = []
    for path in run_dirs(root):
        run = read_run(path)
        trial = run.record.trial
        if not isinstance(trial, dict) or "study" not in trial:
            continue
        state = trial.get("state") or ("running" if run.status == "running" else run.status)
        rows.append(
            {
                "study": str(trial["study"]),
                "number": int(trial.get("number") or 0),
                "state": "running" if state == "stopped" else state,
                "value": trial.get("value"),
                "params": dict(trial.get("params") or {}),
                "metric": trial.get("metric") or "value",
                "direction": trial.get("direction") or "maximize",
                "resumed": bool(run.record.resumed),
                "path": path,
                "fold": trial.get("fold"),
                "folds": run.record.group.size if run.record.group else None,
            }
        )
    rows.sort(key=lambda r: (r["study"], r["number"], r["fold"] or 0))
    rows = _one_per_trial(rows)
    best: dict[str, float] = {}
    for row in rows:  # the best so far, in trial order
        value, study = row["value"], row["study"]
        if row["state"] == "complete" and isinstance(value, int | float):
            better = max if row["direction"] == "maximize" else min
            best[study] = better(best.get(study, value), value)
        row["best_so_far"] = best.get(study)
    return rows


def _one_per_trial(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A cross-validated trial's runs (one per fold) as one row: running while a fold is, its value
    once every fold completed (their mean, as each run records it), `state` saying how many folds
    have run; enter opens its first fold's run."""
    out: list[dict[str, Any]] = []
    trials: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        key = (row["study"], row["number"])
        if row["fold"] is None:
            out.append(row)
        elif key not in trials:
            trials[key] = {**row, "ran": 1}
            out.append(trials[key])
        else:
            first = trials[key]
            first["ran"] += 1
            first["resumed"] = first["resumed"] or row["resumed"]
            if row["state"] == "running" or first["state"] == "running":
                first["state"] = "running"
    for row in trials.values():
        if row["state"] == "running" and row["folds"]:
            row["note"] = f"fold {row['ran']} of {row['folds']}"
    return out


class SweepScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("enter", "open", "Open trial"),
    ]

    def __init__(self, root: Path, refresh_every: float = 1.0):
        super().__init__()
        self.root, self.refresh_every = root, refresh_every
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="sweep-summary")
        yield DataTable(id="trials", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "sweeps"
        self.query_one("#trials", DataTable).focus()
        self.scan()
        self.set_interval(self.refresh_every, self.scan)

    @work(thread=True, exclusive=True, group="sweep-scan")
    def scan(self) -> None:
        rows = trial_rows(self.root)
        self.app.call_from_thread(self.show, rows)

    def show(self, rows: list[dict[str, Any]]) -> None:
        if [(r["path"], r["state"], r["value"], r.get("note")) for r in rows] == [
            (r["path"], r["state"], r["value"], r.get("note")) for r in self.rows
        ]:
            return
        self.rows = rows
        table = self.query_one("#trials", DataTable)
        kept = table.cursor_row
        keys = list(dict.fromkeys(k for r in rows for k in r["params"]))
        metric = rows[0]["metric"] if rows else "value"
        table.clear(columns=True)
        for key in ["study", "trial", "state", metric, "best so far", *keys]:
            table.add_column(key, key=key)
        for row in rows:
            best = row["value"] is not None and row["value"] == row["best_so_far"]
            style = "bold green" if best else ""
            table.add_row(
                Text(row["study"]),
                Text(str(row["number"]), justify="right"),
                Text(
                    row["state"]
                    + (f" ({row['note']})" if row.get("note") else "")
                    + (" (resumed)" if row["resumed"] else ""),
                    style=STATE_STYLE.get(row["state"], ""),
                ),
                Text(_num(row["value"]), style=style, justify="right"),
                Text(_num(row["best_so_far"]), justify="right"),
                *(Text(_num(row["params"].get(k)), justify="right") for k in keys),
                key=str(row["path"]),
            )
        if table.row_count:
            table.move_cursor(row=min(kept, table.row_count - 1))
        counts = {s: sum(r["state"] == s for r in rows) for s in STATE_STYLE}
        studies = sorted({r["study"] for r in rows})
        self.query_one("#sweep-summary", Static).update(
            Text(
                f" {len(rows)} trials with runs in {', '.join(studies) or 'no sweep'}  ·  "
                + "  ".join(f"{n} {s}" for s, n in counts.items() if n)
                + "  ·  enter: open a trial's run",
                style="dim",
            )
        )

    def action_open(self) -> None:
        table = self.query_one("#trials", DataTable)
        if not table.row_count:
            return
        from peftspec.tui.screens.run import RunScreen

        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.app.push_screen(RunScreen(Path(key)))

    @on(DataTable.RowSelected, "#trials")
    def _selected(self) -> None:
        self.action_open()


def _num(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 else f"{value:.4f}"
    return str(value)

"""The runs screen: every run under the root, sortable, filterable, markable; new runs appear live."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from peftspec.runs import run_dirs
from peftspec.tui.data import KEY_METRICS, RunRow, duration_text, fit_columns, group_rows, load_row

COLUMNS = [
    ("mark", " "),
    ("name", "name"),
    ("status", "status"),
    ("backbone", "backbone"),
    ("adapter", "adapter"),
    ("quantization", "quant"),
    ("started", "started"),
    ("duration_s", "duration"),
    *[(m, m) for m in KEY_METRICS],
    ("scored", "scored"),
]
_FIRST_METRIC = "f1_macro" if "f1_macro" in KEY_METRICS else KEY_METRICS[0]
PRIORITY = [
    "mark",
    "name",
    "status",
    _FIRST_METRIC,
    "scored",
    *[m for m in KEY_METRICS if m != _FIRST_METRIC],
    "adapter",
    "duration_s",
    "quantization",
    "backbone",
    "started",
]
"""Which columns a narrow terminal keeps first: the run, its status, then its figures and how they
were scored (threshold 0.5 while training, tuned thresholds once a tuned run has finished)."""
STATUS_STYLE = {
    "completed": "green",
    "running": "cyan",
    "failed": "red",
    "interrupted": "yellow",
    "crashed": "bold red",
}
FILTER = re.compile(r"^\s*(\w+)\s*(>=|<=|>|<|=)\s*(\S*)\s*$")
OPS = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le, "=": operator.eq}
ALIASES = {"subset_accuracy": "accuracy"}
"""Metric names as a spec writes them, for the column that shows them (multi-label accuracy)."""


def compile_filter(query: str) -> tuple[Callable[[RunRow], bool], str | None]:
    """(which rows the filter keeps, a note when it cannot apply yet). Text matches name, backbone
    and adapter; `field>value` compares a metric column (`f1_macro>0.5`, any case). A filter being
    typed (`f1_macro>.`) or naming no column keeps every row and says why."""
    query = query.strip()
    if not query:
        return (lambda row: True), None
    m = FILTER.match(query)
    if not m:
        needle = query.lower()
        return (
            lambda row: any(needle in str(x).lower() for x in (row.name, row.backbone, row.adapter))
        ), None
    field = ALIASES.get(m[1].lower(), m[1].lower())
    if field not in KEY_METRICS:
        return (lambda row: True), f"no column {m[1]!r} to filter on; columns: {', '.join(KEY_METRICS)}"
    try:
        bound = float(m[3])
    except ValueError:
        return (lambda row: True), f"{m[3] or 'a number'} after {m[2]} is not a number yet"
    op = OPS[m[2]]

    def keep(row: RunRow) -> bool:
        value = row.value(field)
        return isinstance(value, int | float) and op(value, bound)

    return keep, None


class RunsScreen(Screen):
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare marked"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort_next", "Sort"),
        Binding("r", "reverse", "Reverse"),
        Binding("g", "toggle_groups", "Seeds"),
        Binding("w", "sweeps", "Sweeps"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, root: Path, refresh_every: float = 1.0):
        super().__init__()
        self.root, self.refresh_every = root, refresh_every
        self.rows: dict[str, RunRow] = {}
        self.marked: set[str] = set()
        self.filter_text = ""
        self.sort_key, self.reverse = "started", True
        self.shown_columns: list[str] = []
        self.grouped = True
        self.shown: dict[str, RunRow] = {}
        """The table's rows by key: runs, and groups of replicates folded into one row."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary")
        yield Input(placeholder="filter: text, or field>value (f1_macro>0.5)", id="filter")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#runs", DataTable).focus()
        self.redraw()
        self.scan()
        self.set_interval(self.refresh_every, self.scan)

    @work(thread=True, exclusive=True, group="scan")
    def scan(self) -> None:
        """Load new run folders, and re-read runs that are still running."""
        changed = []
        for path in run_dirs(self.root):
            row = self.rows.get(path.name)
            if row is None or row.status == "running":
                changed.append(load_row(path))
        if changed:
            self.app.call_from_thread(self.merge, changed)

    def merge(self, rows: list[RunRow]) -> None:
        for row in rows:
            self.rows[row.name] = row
        self.redraw()

    def redraw(self) -> None:
        table = self.query_one("#runs", DataTable)
        current = self.current()
        table.clear()
        keep, note = compile_filter(self.filter_text)
        rows = group_rows(list(self.rows.values())) if self.grouped else list(self.rows.values())
        shown = sorted((r for r in rows if keep(r)), key=self._sort_value, reverse=self.reverse)
        self.shown = {row.key: row for row in shown}
        cells = {row.key: dict(zip((k for k, _ in COLUMNS), self._cells(row))) for row in shown}
        self._fit_columns(table, list(cells.values()))
        for row in shown:
            table.add_row(*(cells[row.key][k] for k in self.shown_columns), key=row.key)
        keys = [r.key for r in shown]
        if current is not None and current.key in keys:
            table.move_cursor(row=keys.index(current.key))  # the cursor stays on its run
        self.query_one("#summary", Static).update(
            Text(
                f" {len(shown)} of {len(rows)} {'rows' if self.grouped else 'runs'} in {self.root}"
                f"  ·  sorted by {self.sort_key}"
                f"{' (desc)' if self.reverse else ''}  ·  {len(self.marked)} marked"
                + (f"  ·  filter: {self.filter_text}" if self.filter_text else "")
                + (f" ({note})" if note else "")
            )
        )

    def _fit_columns(self, table: DataTable, rows: list[dict[str, Text]]) -> None:
        """Show the columns that fit the terminal's width, most wanted first (PRIORITY)."""
        widths = {
            key: max([len(label), *(r[key].cell_len for r in rows)]) + 2 * table.cell_padding
            for key, label in COLUMNS
        }
        shown = fit_columns(widths, PRIORITY, self.size.width - 2)  # the vertical scrollbar
        if shown != self.shown_columns:
            table.clear(columns=True)
            labels = dict(COLUMNS)
            for key in shown:
                table.add_column(labels[key], key=key)
            self.shown_columns = shown

    def on_resize(self) -> None:
        self.redraw()

    def _sort_value(self, row: RunRow):
        value = row.value(self.sort_key)
        if value is None:
            return (0, "")
        return (1, value) if isinstance(value, int | float) else (1, str(value).lower())

    def _cells(self, row: RunRow) -> list:
        metrics = [Text(_figure(row, m), justify="right") for m in KEY_METRICS]
        return [
            Text("✓" if row.key in self.marked else " "),
            Text(row.name),
            Text(row.status, style=STATUS_STYLE.get(row.status, "")),
            Text(row.backbone),
            Text(row.adapter),
            Text(row.quantization),
            Text(row.started),
            Text(duration_text(row.duration_s)),
            *metrics,
            Text(row.scored, style="yellow" if row.scored == "tuned" else "dim"),
        ]

    def current(self) -> RunRow | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.shown.get(key)

    def action_open(self) -> None:
        """A run opens its screen; a group of replicates opens the comparison of its seeds."""
        row = self.current()
        if row is not None and row.members:
            from peftspec.tui.screens.compare import CompareScreen

            self.app.push_screen(CompareScreen([m.path for m in row.members], group=False))
        elif row is not None:
            from peftspec.tui.screens.run import RunScreen

            self.app.push_screen(RunScreen(row.path))

    def action_sweeps(self) -> None:
        """`w`: the trials of the sweeps under the root."""
        from peftspec.tui.screens.sweep import SweepScreen

        self.app.push_screen(SweepScreen(self.root, self.refresh_every))

    def action_toggle_groups(self) -> None:
        """`g`: fold each group of replicates into one row (mean ± sd), or list every seed."""
        self.grouped = not self.grouped
        self.redraw()

    @on(DataTable.RowSelected, "#runs")
    def _selected(self) -> None:
        self.action_open()

    def action_mark(self) -> None:
        row = self.current()
        if row is not None:
            self.marked ^= {row.key}
            self.redraw()

    def action_compare(self) -> None:
        if len(self.marked) < 2:
            self.notify("Mark two or more runs with space first", severity="warning")
            return
        from peftspec.tui.screens.compare import CompareScreen

        paths = []
        for key in sorted(self.marked):
            row = self.shown.get(key) or self.rows.get(key)
            if row is not None:
                paths += [m.path for m in row.members] or [row.path]
        self.app.push_screen(CompareScreen(paths))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#runs", DataTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value, box.display = "", False
        self.filter_text = ""
        self.redraw()
        self.query_one("#runs", DataTable).focus()

    def action_sort_next(self) -> None:
        keys = [k for k, _ in COLUMNS if k != "mark"]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.redraw()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self.redraw()

    @on(DataTable.HeaderSelected, "#runs")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key == "mark":
            return
        self.reverse = not self.reverse if key == self.sort_key else key in KEY_METRICS
        self.sort_key = key
        self.redraw()


def _figure(row: RunRow, metric: str) -> str:
    """A metric cell: 4 decimals; a group's mean ± sd in 3 to stay narrow."""
    value, spread = row.best.get(metric), row.spread.get(metric)
    if value is None:
        return "-"
    return f"{value:.3f}±{spread:.3f}" if spread is not None else f"{value:.4f}"

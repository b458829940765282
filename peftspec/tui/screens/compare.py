"""Compare marked runs: the overview table with a pinned baseline, overlaid curves, a config diff."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from peftspec.metrics.registry import LOSS, headline_metrics
from peftspec.report.columns import best_values, fmt, fmt_delta, is_best, present_columns, with_deltas
from peftspec.report.compare import run_row
from peftspec.runs import read_run
from peftspec.runs.stream import number, step_of
from peftspec.tui.damage import tolerant
from peftspec.tui.data import config_diff
from peftspec.tui.widgets.curves import Curves

CURVE_METRICS = [*sorted(headline_metrics(), key=lambda m: m != "f1_macro"), LOSS]
"""What `m` cycles through: the headline metrics, the primary one first, then the loss."""


class CompareScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("b", "baseline", "Pin baseline"),
        Binding("m", "next_metric", "Curve metric"),
    ]

    def __init__(self, paths: list[Path]):
        super().__init__()
        self.paths = paths
        self.runs = []
        self.baseline: str | None = None
        self.metric_index = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="compare-tabs"):
            with TabPane("Overview", id="overview"):
                yield DataTable(id="overview-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Curves", id="overlay"):
                yield Curves(id="overlay-plot")
            with TabPane("Config diff", id="diff"):
                yield DataTable(id="diff-table", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        runs = [read_run(p) for p in self.paths]
        for run in runs:
            run.metrics()  # read the metric stream here, in the worker
        self.app.call_from_thread(self.show, runs)

    def show(self, runs) -> None:
        self.runs = runs
        self._overview()
        self._overlay()
        self._diff()

    @tolerant("overview")
    def _overview(self) -> None:
        rows = [run_row(r) for r in self.runs]
        if self.baseline:
            rows = with_deltas(rows, self.baseline)
        columns = present_columns(rows)
        best = best_values(rows, columns)
        table = self.query_one("#overview-table", DataTable)
        table.clear(columns=True)
        for column in columns:
            table.add_column(column.title, key=column.key)
        for row in rows:
            cells = []
            for column in columns:
                text = fmt(row.get(column.key), column) + fmt_delta(row.get(f"{column.key}_delta"), column)
                style = "bold green" if is_best(row, column, best) else ""
                if column.key == "run" and row["run"] == self.baseline:
                    text, style = f"{text} (baseline)", "bold"
                cells.append(Text(text, style=style, justify="left" if column.key == "run" else "right"))
            table.add_row(*cells, key=row["run"])

    @tolerant("curves")
    def _overlay(self) -> None:
        metric = CURVE_METRICS[self.metric_index % len(CURVE_METRICS)]
        series = {
            r.name: [(step_of(e), e[metric]) for e in r.stream.evals if number(e.get(metric)) is not None]
            for r in self.runs
        }
        self.query_one("#overlay-plot", Curves).show(f"validation {metric} (m: next)", series)

    @tolerant("config diff")
    def _diff(self) -> None:
        table = self.query_one("#diff-table", DataTable)
        table.clear(columns=True)
        table.add_column("key", key="key")
        for r in self.runs:
            table.add_column(Text(r.name), key=r.name)
        diff = config_diff([r.spec_dict() for r in self.runs])
        for key, values in diff:
            table.add_row(Text(key), *(Text(v) for v in values))
        if not diff:
            table.add_row(Text("(the specs are identical)"), *(Text("") for _ in self.runs))

    def action_baseline(self) -> None:
        table = self.query_one("#overview-table", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.baseline = None if self.baseline == key else key
            self._overview()

    def action_next_metric(self) -> None:
        self.metric_index += 1
        self._overlay()

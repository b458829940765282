"""Compare marked runs: the overview table with a pinned baseline, overlaid curves, each label's
F1, the runs' calibration, each difference to the baseline tested, a config diff."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from peftspec.metrics.registry import LOSS, headline_metrics
from peftspec.report.columns import (
    AT_HALF,
    Column,
    best_values,
    caption,
    cell,
    is_best,
    present_columns,
)
from peftspec.report.compare import comparison_rows, default_split
from peftspec.report.settings import clipped, set_apart
from peftspec.runs import read_run
from peftspec.runs.reader import DAMAGE
from peftspec.runs.stream import number, step_of
from peftspec.tui.damage import tolerant
from peftspec.tui.data import fit_columns
from peftspec.tui.panes import focus_content, step_pane
from peftspec.tui.widgets.curves import Curves

CURVE_METRICS = [*sorted(headline_metrics(), key=lambda m: m != "f1_macro"), LOSS]
"""What `m` cycles through: the headline metrics, the primary one first, then the loss."""


def column_priority(columns: list[Column]) -> list[str]:
    """Which overview columns a narrow terminal keeps first: the run, the headline metrics (F1
    macro first), each beside its @0.5 figure, then the other metrics, the validation loss, speed
    and size, and the training losses last."""
    keys = [c.key for c in columns]
    headline = sorted(headline_metrics(), key=lambda m: m != "f1_macro")
    first = ["name", *(k for m in headline for k in (m, f"{m}{AT_HALF}"))]
    last = ["final_train_loss", "best_train_loss"]
    middle = [k for k in keys if k not in first and k not in last]
    return [k for k in [*first, *middle, *last] if k in keys]


class CompareScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("right_square_bracket", "pane(1)", "Next pane"),
        Binding("left_square_bracket", "pane(-1)", "Prev pane", show=False),
        Binding("b", "baseline", "Pin baseline"),
        Binding("m", "next_metric", "Curve metric"),
    ]

    def __init__(self, paths: list[Path], group: bool = True):
        super().__init__()
        self.paths = paths
        self.group = group
        """Fold groups of replicates into one row (off: one row per seed, as a group opens)."""
        self.runs = []
        self.rows: list[dict] = []
        """The overview's rows, as `comparison_rows` made them for the runs and the baseline."""
        self.split = "validation"
        self.baseline: str | None = None
        self.metric_index = 0
        self.label_tests: tuple[str | None, tuple] = (None, ({}, None))
        """(the baseline, (each (label, row)'s tested difference, the protocol)): the Labels pane's
        per-label tests, worked out with the Significance pane's."""
        self.calibration: tuple | BaseException | None = None
        """The Calibration pane's figures (`peftspec.report.calibration.calibrated`), worked out in
        the loading worker (they read every run's predictions), or what stopped them."""

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="compare-tabs"):
            with TabPane("Overview", id="overview"):
                yield Static(id="overview-caption")
                yield DataTable(id="overview-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Curves", id="overlay"):
                yield Curves(id="overlay-plot")
            with TabPane("Labels", id="labels"):
                yield Static(id="labels-caption")
                yield DataTable(id="labels-table", zebra_stripes=True)
            with TabPane("Calibration", id="calibration"):
                yield Static(id="calibration-caption")
                yield DataTable(id="calibration-table", zebra_stripes=True)
                yield Curves(id="calibration-plot")
            with TabPane("Significance", id="significance"):
                yield Static(id="significance-caption")
                yield DataTable(id="significance-table", zebra_stripes=True)
            with TabPane("Config diff", id="diff"):
                yield DataTable(id="diff-table", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#overview-table", DataTable).focus()  # arrows and `b` act on the runs
        self.load()

    @on(TabbedContent.TabActivated, "#compare-tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        focus_content(event.pane)

    def on_resize(self) -> None:
        if self.runs:
            self._overview()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        runs = [read_run(p) for p in self.paths]
        for run in runs:
            run.metrics()  # read the metric stream here, in the worker
        self.calibration = _calibration_of(runs, self.group)
        self.app.call_from_thread(self.show, runs)

    def show(self, runs) -> None:
        self.runs = runs
        self._overview()
        self._overlay()
        self._labels()
        self._calibration()
        self._significance(self.baseline, None)
        self._diff()

    @tolerant("overview")
    def _overview(self) -> None:
        split = default_split(self.runs)
        rows = comparison_rows(self.runs, split, self.baseline, group=self.group)
        self.rows, self.split = rows, split  # the Labels pane reads the same rows
        columns = present_columns(rows)
        best = best_values(rows, columns)
        table = self.query_one("#overview-table", DataTable)
        cells: dict[str, dict[str, Text]] = {}
        for row in rows:
            cells[row["run"]] = {}
            for column in columns:
                text = cell(row, column)
                style = "bold green" if is_best(row, column, best) else ""
                if column.key == "name" and row["run"] == self.baseline:
                    text, style = f"{text} (baseline)", "bold"
                justify = "left" if column.key == "name" else "right"
                cells[row["run"]][column.key] = Text(text, style=style, justify=justify)
        widths = {
            c.key: max([len(c.title), *(r[c.key].cell_len for r in cells.values())]) + 2 * table.cell_padding
            for c in columns
        }
        shown = fit_columns(widths, column_priority(columns), self.size.width - 2)
        kept = table.cursor_row
        table.clear(columns=True)
        titles = {c.key: c.title for c in columns}
        for key in shown:
            table.add_column(titles[key], key=key)
        for run, row_cells in cells.items():
            table.add_row(*(row_cells[k] for k in shown), key=run)
        if table.row_count:
            table.move_cursor(row=min(kept, table.row_count - 1))
        hidden = len(columns) - len(shown)
        note = caption(rows) + " Best of each ranked column in bold green."
        if hidden:
            note += f" {hidden} more column(s) in a wider terminal, or `peftspec compare`."
        self.query_one("#overview-caption", Static).update(Text(note, style="dim"))

    @tolerant("curves")
    def _overlay(self) -> None:
        metric = CURVE_METRICS[self.metric_index % len(CURVE_METRICS)]
        series = {
            r.name: [(step_of(e), e[metric]) for e in r.stream.evals if number(e.get(metric)) is not None]
            for r in self.runs
        }
        self.query_one("#overlay-plot", Curves).show(f"validation {metric} (m: next)", series)

    @tolerant("labels")
    def _labels(self) -> None:
        """Each label's F1 side by side (`peftspec.report.per_label`), deltas against the baseline."""
        from peftspec.report.per_label import NoPerLabel, per_label

        table = self.query_one("#labels-table", DataTable)
        table.clear(columns=True)
        caption = self.query_one("#labels-caption", Static)
        try:
            found = per_label(self.rows, self.runs, self.split, self.baseline)
        except NoPerLabel as exc:
            caption.update(Text(str(exc), style="dim"))
            return
        tested_for, tests = self.label_tests
        if tested_for is not None and tested_for == self.baseline:  # the worker's test of each label
            found.tested, found.protocol = tests
        table.add_column("label", key="label")
        table.add_column("support", key="support")
        for name in found.names:
            table.add_column(Text(name), key=name)
        for i, label in enumerate(found.labels):
            best = found.best(i)
            table.add_row(
                Text(label),
                Text(found.support_text(i), justify="right"),
                *(
                    Text(c, style="bold green" if j in best else "", justify="right")
                    for j, c in enumerate(found.cells(i))
                ),
            )
        caption.update(Text(found.caption(), style="dim"))

    @tolerant("calibration")
    def _calibration(self) -> None:
        """Each row's reliability on the overview's split, and its ECE and Brier
        (`peftspec.report.calibration`), from the recorded predictions."""
        from peftspec.report.calibration import calibration_caption, figure_text

        if isinstance(self.calibration, BaseException):
            raise self.calibration
        found, missing, split = self.calibration
        table = self.query_one("#calibration-table", DataTable)
        table.clear(columns=True)
        for title in ("run", "scores", "ECE", "Brier"):
            table.add_column(title, key=title)
        for c in found:
            numbers = (f"{c.table.total:,}", figure_text(c.ece), figure_text(c.brier))
            table.add_row(Text(c.name), *(Text(n, justify="right") for n in numbers))
        series = {"calibrated": [(0.0, 0.0), (1.0, 1.0)]} if found else {}
        series |= {c.name: list(zip(c.table.score.tolist(), c.table.observed.tolist())) for c in found}
        title = f"share that came true against the score ({split})"
        self.query_one("#calibration-plot", Curves).show(title, series, xlabel="score")
        text = (
            calibration_caption(found, missing, split, self.runs)
            if found
            else (f"No {split} predictions recorded: nothing to calibrate.")
        )
        self.query_one("#calibration-caption", Static).update(Text(text, style="dim"))

    @tolerant("config diff")
    def _diff(self) -> None:
        table = self.query_one("#diff-table", DataTable)
        table.clear(columns=True)
        table.add_column("key", key="key")
        for r in self.runs:
            table.add_column(Text(r.name), key=r.name)
        diff = set_apart([[r.spec_dict()] for r in self.runs])
        for key, values in diff:
            table.add_row(Text(key), *(Text(clipped(v)) for v in values))
        if not diff:
            table.add_row(Text("(no spec key sets them apart)"), *(Text("") for _ in self.runs))

    @tolerant("significance")
    def _significance(self, baseline: str | None, found) -> None:
        """Each difference to the pinned baseline with its interval and p-values, as `compare
        --baseline` tests it (`found`: the comparison, why there is none, or None while testing)."""
        if baseline != self.baseline:
            return  # tested for a baseline pinned before the one shown now
        from peftspec.report.significance import Comparison
        from peftspec.report.significance_table import significance_table

        table = self.query_one("#significance-table", DataTable)
        table.clear(columns=True)
        caption = self.query_one("#significance-caption", Static)
        if baseline is None:
            text = "Pin a baseline (b on a run in Overview) to test each difference to it, as compare does."
        elif found is None:
            text = f"Testing each difference to the baseline on {self.split} (a paired bootstrap)..."
        elif not isinstance(found, Comparison):
            text = f"No intervals: {found}"
        else:
            shown = significance_table(found)
            for title in shown.header:
                table.add_column(title, key=title)
            for cells in shown.rows:
                style = "bold green" if cells[-1].startswith("yes") else ""
                justify = ["left", "left", *(["right"] * (len(cells) - 2))]
                table.add_row(*(Text(c, style=style, justify=j) for c, j in zip(cells, justify)))
            text = found.protocol()
        caption.update(Text(text, style="dim"))

    @work(thread=True, exclusive=True, group="significance")
    def test_differences(self, baseline: str) -> None:
        """The paired bootstrap (10,000 resamples) away from the UI thread."""
        found = _tested(self.runs, self.rows, baseline, self.split, self.group)
        labels = _labels_tested(self.runs, self.rows, baseline, self.split)
        self.app.call_from_thread(self._tests_done, baseline, found, labels)

    def _tests_done(self, baseline: str, found, labels) -> None:
        self._significance(baseline, found)
        if labels is not None and baseline == self.baseline:
            self.label_tests = (baseline, labels)
            self._labels()

    def action_baseline(self) -> None:
        table = self.query_one("#overview-table", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.baseline = None if self.baseline == key else key
            self._overview()
            self._labels()
            self._significance(self.baseline, None)
            if self.baseline is not None:
                self.test_differences(self.baseline)

    def action_next_metric(self) -> None:
        self.metric_index += 1
        self._overlay()

    def action_pane(self, step: int) -> None:
        """`]` and `[`: the next or previous pane (arrows stay with the pane's own table)."""
        step_pane(self.query_one("#compare-tabs", TabbedContent), step)


def _calibration_of(runs, group: bool) -> tuple | BaseException:
    """(found, missing, split): each overview row's calibration on the overview's split, from the
    recorded predictions (no pinned baseline changes them); or the damage that stopped it, which
    the pane reports when it is drawn."""
    from peftspec.report.calibration import calibrated

    try:
        split = default_split(runs)
        return (*calibrated(comparison_rows(runs, split, group=group), runs, split), split)
    except DAMAGE as exc:
        return exc


def _tested(runs, rows: list[dict], baseline: str, split: str, group: bool):
    """The comparison against the overview's row `baseline` (a run, or a group's id), as `compare
    --baseline` makes it; or why there is none (a run without predictions, runs that do not pair)."""
    from peftspec.errors import UserError
    from peftspec.report.compare import compare_runs

    row = next(r for r in rows if r["run"] == baseline)
    first = row.get("members", [row["run"]])[0]
    try:
        result = compare_runs(runs, next(r for r in runs if r.name == first), split, group=group)
    except (UserError, *DAMAGE) as exc:
        return str(exc)
    return result.comparison if result.comparison is not None else result.note


def _labels_tested(runs, rows: list[dict], baseline: str, split: str) -> tuple | None:
    """(each (label, row)'s tested F1 difference to `baseline`, the protocol), as `compare
    --per-label --baseline` tests them; None when they cannot be tested."""
    from peftspec.report.per_label import NoPerLabel, per_label, test_labels

    try:
        table = per_label(rows, runs, split, baseline)
        if test_labels(table, rows, runs) is not None:
            return None
    except (NoPerLabel, *DAMAGE):
        return None
    return table.tested, table.protocol

"""One run: metrics per evaluation, curves, confusion heatmaps, per-label report, the most
confident mistakes, spec, facts. Follows a running run live, reading only the bytes appended to
metrics.jsonl, in a worker thread."""

from __future__ import annotations

from pathlib import Path

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from peftspec.metrics.confused import confused_line
from peftspec.metrics.registry import higher_is_better
from peftspec.runs import Run, read_run
from peftspec.runs.groups import member
from peftspec.runs.reader import calibration_phrase, fixed_threshold
from peftspec.runs.record import task_line
from peftspec.tui.damage import tolerant
from peftspec.tui.data import duration_text
from peftspec.tui.panes import focus_content, step_pane
from peftspec.tui.widgets import heatmap
from peftspec.tui.widgets.curves import Curves
from peftspec.tui.widgets.mistakes import Mistakes

SKIP = {
    "event",
    "time",
    "split",
    "step",
    "epoch",
    "per_label",
    "health",
    "runtime",
    "samples_per_second",
    "steps_per_second",
}


class RunScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("right_square_bracket", "pane(1)", "Next pane"),
        Binding("left_square_bracket", "pane(-1)", "Prev pane", show=False),
        Binding("m", "next_metric", "Curve metric"),
        Binding("n", "normalise", "Normalise matrix"),
        Binding("t", "next_split", "Split"),
    ]

    def __init__(self, path: Path, follow_every: float = 0.5):
        super().__init__()
        self.path, self.follow_every = path, follow_every
        self.detail: Run | None = None
        self.metric_index = 0
        self.normalised = False
        self.split = "validation"
        self.metric_columns: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("Metrics", id="metrics"):
                yield DataTable(id="steps", cursor_type="row", zebra_stripes=True)
            with TabPane("Curves", id="curves"):
                yield Curves(id="loss-plot")
                yield Curves(id="metric-plot")
            with TabPane("Confusion", id="confusion"):
                yield Static(id="confusion-split", classes="pane-caption")
                yield Static(id="confusion-key")
                # NxN: row names and header stay in view while a large matrix scrolls
                yield DataTable(id="matrix", fixed_columns=1, cursor_type="none", cell_padding=0)
                with ScrollableContainer(id="heatmap-scroll"):
                    yield Static(id="heatmap")
            with TabPane("Labels", id="labels"):
                yield Static(id="labels-split", classes="pane-caption")
                yield DataTable(id="per-label", zebra_stripes=True)
            with TabPane("Mistakes", id="mistakes"):
                yield Mistakes(id="mistakes-pane")
            with TabPane("Spec", id="spec"), VerticalScroll():
                yield Static(id="spec-text")
            with TabPane("Facts", id="facts"), VerticalScroll():
                yield Static(id="facts-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#steps", DataTable).focus()  # arrows move through the rows, not the tabs
        self.load()

    @on(TabbedContent.TabActivated, "#tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        focus_content(event.pane)

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        detail = read_run(self.path)
        detail.metrics()  # read the metric stream here, in the worker
        self.app.call_from_thread(self.show, detail)

    def show(self, detail: Run) -> None:
        first = self.detail is None
        self.detail = detail
        run = detail
        self.title = run.name
        self.sub_title = run.status
        self._steps_table()
        self._curves()
        self._confusion()
        self._labels()
        self._mistakes()
        text = run.spec_text() or f"# no {run.paths.spec.name}"
        self.query_one("#spec-text", Static).update(Syntax(text, "toml", line_numbers=False, word_wrap=True))
        self._facts()
        if run.status == "running" and first:
            self._timer = self.set_interval(self.follow_every, self.follow)
        elif run.status != "running" and getattr(self, "_timer", None) is not None:
            self._timer.stop()  # finished: nothing more to follow
            self._timer = None

    # -- live follow ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="follow")
    def follow(self) -> None:
        if self.detail is None:
            return
        new = self.detail.stream.tail()
        if read_run(self.path).record.status != "running":  # finished (or failed): read it all again
            fresh = read_run(self.path)
            fresh.metrics()
            self.app.call_from_thread(self.show, fresh)
        elif new:
            self.app.call_from_thread(self._appended, new)

    def _appended(self, records: list[dict]) -> None:
        if any(r.get("event") == "eval" for r in records):
            self._steps_table()
        self._curves()

    # -- panes ---------------------------------------------------------------------------------
    @tolerant("metrics")
    def _steps_table(self) -> None:
        detail = self.detail
        table = self.query_one("#steps", DataTable)
        evals = detail.stream.evals
        metrics = [k for k in dict.fromkeys(k for e in evals for k in e) if k not in SKIP and k != "loss"]
        best_metric = self._best_metric(metrics)
        if not table.columns:
            self.metric_columns = metrics
            if best_metric in metrics:  # the curve starts on the metric the run is judged by
                self.metric_index = metrics.index(best_metric)
            for key in ["step", "epoch", "train loss", "eval loss", *metrics]:
                table.add_column(key, key=key)
        live = detail.status == "running"
        following = live and (table.row_count == 0 or table.cursor_row >= table.row_count - 1)
        kept = table.cursor_row
        table.clear()
        values = [e.get(best_metric) for e in evals if isinstance(e.get(best_metric), int | float)]
        best = (max(values) if higher_is_better(best_metric) else min(values)) if values else None
        for record in evals:
            style = "bold green" if best is not None and record.get(best_metric) == best else ""
            cells = [
                record.get("step"),
                record.get("epoch"),
                self._train_loss_at(record.get("step")),
                record.get("loss"),
                *(record.get(m) for m in self.metric_columns),
            ]
            table.add_row(*(Text(_fmt(c), style=style, justify="right") for c in cells))
        if table.row_count:  # the newest evaluation stays in view while following; else the row kept
            table.move_cursor(row=table.row_count - 1 if following else min(kept, table.row_count - 1))

    def _best_metric(self, metrics: list[str]) -> str | None:
        """The metric the run is judged by: as recorded, else as its spec says, else the first."""
        detail = self.detail
        if detail.record.best and detail.record.best.metric:
            return detail.record.best.metric
        trainer = detail.spec_dict().get("trainer")
        named = trainer.get("best_metric") if isinstance(trainer, dict) else None
        return named if isinstance(named, str) else (metrics[0] if metrics else None)

    def _train_loss_at(self, step) -> float | None:
        losses = [r["loss"] for r in self.detail.stream.train if (r.get("step") or 0) <= (step or 0)]
        return losses[-1] if losses else None

    @tolerant("curves")
    def _curves(self) -> None:
        detail = self.detail
        train = [(r["step"], r["loss"]) for r in detail.stream.train]
        evals = [
            (e["step"], e["loss"]) for e in detail.stream.evals if isinstance(e.get("loss"), int | float)
        ]
        self.query_one("#loss-plot", Curves).show("loss", {"train": train, "validation": evals})
        metric = self._metric()
        points = [
            (e["step"], e[metric]) for e in detail.stream.evals if isinstance(e.get(metric), int | float)
        ]
        self.query_one("#metric-plot", Curves).show(
            f"{metric or 'no metric'} (m: next)", {metric or "-": points}
        )

    def _metric(self) -> str | None:
        if not self.metric_columns:
            return None
        return self.metric_columns[self.metric_index % len(self.metric_columns)]

    @tolerant("confusion")
    def _confusion(self) -> None:
        confusion = self.detail.confusions().get(self.split)
        self.query_one("#confusion-split", Static).update(self._split_caption("n: rates"))
        key, table = self.query_one("#confusion-key", Static), self.query_one("#matrix", DataTable)
        widget, scroll = self.query_one("#heatmap", Static), self.query_one("#heatmap-scroll")
        nxn = bool(confusion) and confusion.get("kind") != "per_label"
        table.display, scroll.display, key.display = nxn, not nxn, nxn
        if not confusion:
            widget.update(Text(f"No {self.split} confusion matrix recorded (yet)."))
        elif not nxn:
            per_label = (self.detail.evaluations().get(self.split) or {}).get("per_label") or {}
            widget.update(heatmap.per_label(confusion, per_label, self.normalised))
        else:
            confused = confused_line(confusion["labels"], confusion["matrix"])
            lines = [heatmap.matrix_key(self.normalised), *([confused] if confused else [])]
            key.update(Text("\n".join(lines)))
            self._fill_matrix(table, *heatmap.matrix_cells(confusion, self.normalised))

    @staticmethod
    def _fill_matrix(table: DataTable, header: list[str], rows: list[list[Text]]) -> None:
        """Refill the matrix table, keeping where it was scrolled to."""
        scrolled = table.scroll_offset
        table.clear(columns=True)
        table.add_column(header[0])
        for label in header[1:]:
            table.add_column(Text(label, justify="right"))
        table.add_rows(rows)
        table.scroll_to(scrolled.x, scrolled.y, animate=False)

    def _split_caption(self, keys: str = "") -> Text:
        """Which split a pane shows, how its labels were decided, and the keys that change it."""
        splits = self.detail.evaluation_splits() or ["validation"]
        used = self.detail.thresholds_used()
        cut = fixed_threshold(used)
        decided = (
            f"thresholds {self.detail.threshold_protocol()}"
            if used.get("mode") == "tuned"
            else "the most likely class"
            if used.get("mode") == "argmax"
            else f"threshold {cut:g}"
            if cut is not None
            else "the recorded thresholds"
        )
        hints = ["t: split"] if len(splits) > 1 else []
        return Text(f" {self.split} split · labels by {decided} · " + "  ".join([*hints, keys]), style="dim")

    @tolerant("labels")
    def _labels(self) -> None:
        self.query_one("#labels-split", Static).update(self._split_caption())
        table = self.query_one("#per-label", DataTable)
        table.clear(columns=True)
        for key in ("label", "precision", "recall", "F1", "support", "threshold"):
            table.add_column(key, key=key)
        evaluations = self.detail.evaluations()
        per_label = (evaluations.get(self.split) or {}).get("per_label") or {}
        thresholds = (evaluations.get("thresholds") or {}).get("values") or {}
        for name, row in per_label.items():
            threshold = thresholds.get(name)
            table.add_row(
                Text(name),
                *(Text(_fmt(row.get(k)), justify="right") for k in ("precision", "recall", "f1", "support")),
                Text(_fmt(threshold) if threshold is not None else "argmax", justify="right"),
            )

    @tolerant("mistakes")
    def _mistakes(self) -> None:
        self.query_one("#mistakes-pane", Mistakes).show(self.detail, self.split)

    @tolerant("facts")
    def _facts(self) -> None:
        run = self.detail
        record = run.record
        overview = record.overview
        table = Table(show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column()
        facts = [
            ("status", run.status),
            ("started", record.started_at),
            ("ended", record.ended_at),
            ("duration", duration_text(record.duration_s)),
            ("backbone", record.backbone),
            ("adapter", overview.adapter if overview else record.adapter),
            ("quantisation", record.quantization),
            ("task", record.task and task_line(record.task, len(record.labels), record.positive_class)),
            ("labels", ", ".join(record.labels)),
            ("device", overview.device if overview else None),
            ("precision", record.precision),
            ("learning rate", overview.learning_rate if overview else None),
            ("pooling", overview.pooling if overview else None),
            *([("held out", overview.held_out)] if overview and overview.held_out else []),
            ("truncated", overview.truncated if overview else None),
            ("thresholds", run.threshold_protocol()),
            *([("calibration", calibration_phrase(c))] if (c := run.calibration()) else []),
            ("seed", record.seed),
            ("versions", ", ".join(f"{k} {v}" for k, v in record.versions.items())),
            ("git commit", record.git_commit),
            ("best", record.best.model_dump() if record.best else None),
        ]
        if record.group is not None and record.group.id:  # a run of --seeds or --folds
            place = f"{member(run)}, run {(record.group.index or 0) + 1} of {record.group.size}"
            facts.append(("group", f"{record.group.id} ({place})"))
        trial = record.trial or {}
        if trial.get("study") is not None:
            value = trial.get("value")
            shown = (
                f", {trial.get('metric') or 'value'} {value:.4f}" if isinstance(value, int | float) else ""
            )
            if isinstance(trial.get("fold_value"), int | float):  # a cross-validated trial's fold
                shown += f", the mean of its folds; this fold {trial['fold_value']:.4f}"
            facts.append(
                (
                    "trial",
                    f"{trial['study']} #{trial.get('number')} ({trial.get('state') or 'running'}{shown})",
                )
            )
        dist = record.distributed
        if dist:
            facts.append(("processes", f"{dist.get('world_size')} ({dist.get('strategy')})"))
        for resumed in record.resumed:
            facts.append(("resumed", f"{resumed.at} from step {resumed.from_step}"))
        if record.error is not None:
            error = record.error
            where = f" (rank {error.rank})" if error.rank else ""
            facts.append(("error", f"{error.type}{where}: {error.message}"))
            if error.resume:
                facts.append(("resume with", error.resume))
        facts += [("data warning", warning) for warning in record.data_warnings]
        for warning in run.evaluation_warnings() or _latest_health(run):
            facts.append(("warning", warning))
        for warning in run.warnings:
            facts.append(("warning", warning))
        for key, value in facts:
            table.add_row(
                key, Text("-" if value is None else str(value), style="red" if key == "error" else "")
            )
        self.query_one("#facts-text", Static).update(table)

    # -- actions -------------------------------------------------------------------------------
    def action_next_metric(self) -> None:
        self.metric_index += 1
        if self.detail:
            self._curves()

    def action_normalise(self) -> None:
        self.normalised = not self.normalised
        if self.detail:
            self._confusion()

    def action_next_split(self) -> None:
        """validation -> test -> each `peftspec evaluate` result -> validation."""
        splits = (self.detail.evaluation_splits() if self.detail else []) or ["validation"]
        position = splits.index(self.split) + 1 if self.split in splits else 0
        self.split = splits[position % len(splits)]
        if self.detail:
            self._confusion()
            self._labels()
            self._mistakes()
            self.notify(f"showing the {self.split} split")

    def action_pane(self, step: int) -> None:
        """`]` and `[`: the next or previous pane (arrows stay with the pane's own table)."""
        step_pane(self.query_one("#tabs", TabbedContent), step)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _latest_health(run: Run) -> list[str]:
    """While a run trains: what its latest evaluation warned about."""
    evals = run.stream.evals
    health = evals[-1].get("health") if evals else None
    return list(health.get("warnings") or []) if isinstance(health, dict) else []

"""The run screen's Mistakes pane: the rows of a split the run got most confidently wrong, as the
report lists them (`peftspec.report.mistakes`), in a table a user can scroll through."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from peftspec.runs import Run

SHOWN = 50
"""Rows listed: more than a report shows, since the table scrolls."""


class Mistakes(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="mistakes-caption", classes="pane-caption")
        yield DataTable(id="mistakes-table", zebra_stripes=True, cursor_type="row")

    def show(self, run: Run, split: str) -> None:
        from peftspec.report.mistakes import confident_mistakes, shorten

        table = self.query_one("#mistakes-table", DataTable)
        table.clear(columns=True)
        for key in ("id", "text", "gold", "predicted", "wrong decisions"):
            table.add_column(key, key=key)
        frame = run.split_predictions(split)
        caption = self.query_one("#mistakes-caption", Static)
        if frame is None or not run.record.labels:
            caption.update(
                Text(f" {split}: no recorded predictions (written when a run completes)", style="dim")
            )
            return
        found, wrong = confident_mistakes(
            frame, run.record.task or "multi_label", list(run.record.labels), SHOWN
        )
        caption.update(
            Text(
                f" {split} split · {wrong:,} of {frame.height:,} rows wrong · the most confident first "
                "(highest loss) · t: next split",
                style="dim",
            )
        )
        for m in found:
            table.add_row(
                Text(m.id),
                Text(shorten(m.text, 80)),
                Text(", ".join(m.gold) or "(none)"),
                Text(", ".join(m.predicted) or "(none)"),
                Text(m.why()),
            )

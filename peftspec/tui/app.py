"""The Textual application behind `peftspec tui`."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from peftspec.tui.screens.runs import RunsScreen


class PeftspecApp(App):
    """Browse peftspec runs: compare, inspect, follow live."""

    TITLE = "peftspec"
    CSS_PATH = "styles.tcss"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "toggle_help", "Help"),
    ]

    def __init__(self, root: str | Path = "runs", refresh_every: float = 1.0):
        super().__init__()
        self.root = Path(root)
        self.refresh_every = refresh_every
        self.sub_title = str(self.root)

    def on_mount(self) -> None:
        self.push_screen(RunsScreen(self.root, self.refresh_every))

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()


def main(root: str = "runs") -> None:
    PeftspecApp(root).run()

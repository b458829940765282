"""Tabbed screens: keys act on a pane's content, `]` and `[` move between panes."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane

CONTENT = "DataTable, ScrollableContainer, VerticalScroll"
"""What takes the keys in a pane: its table, or its scrollable view."""


def focus_content(pane) -> None:
    """Focus the pane's shown table (or scrollable view), so arrows act on it rather than on the tabs."""
    for target in pane.query(CONTENT).results():
        if target.display:
            target.focus()
            return


def step_pane(tabs: TabbedContent, step: int) -> None:
    """Show the pane `step` places after (or before) the active one, wrapping around."""
    panes = [pane.id for pane in tabs.query(TabPane)]
    tabs.active = panes[(panes.index(tabs.active) + step) % len(panes)]

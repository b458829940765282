"""SVG snapshots of the TUI's screens over fixture runs with fixed timestamps (no clocks, no live runs).

Update after an intended change of the look: pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, TabbedContent

from peftspec.tui.app import PeftspecApp
from peftspec.tui.screens.compare import CompareScreen
from peftspec.tui.screens.run import RunScreen
from tests.helpers.fixture_runs import START, write_run
from tests.helpers.pilot import loaded_compare_screen, loaded_run_screen, until

SIZE = (150, 40)


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch) -> str:
    root = tmp_path / "runs"
    write_run(root, "ml-lora-20260301T120000Z", quality=0.55)
    write_run(root, "ml-ia3-20260301T130000Z", adapter="ia3", quality=0.45, start=START + timedelta(hours=1))
    write_run(
        root, "mc-lora-20260302T120000Z", task="multi_class", quality=0.7, start=START + timedelta(days=1)
    )
    old = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    write_run(root, "ml-stale-20260303T120000Z", status="running", steps=20, start=old, heartbeat=old)
    write_run(root, "ml-oom-20260304T120000Z", status="failed", steps=10, start=START + timedelta(days=3))
    monkeypatch.chdir(tmp_path)
    return "runs"  # relative, so the header and summary read the same on every machine


async def _loaded(pilot) -> None:
    table = pilot.app.screen.query_one("#runs", DataTable)
    await until(pilot, lambda: table.row_count == 5, "the runs table")


def test_runs_screen(snap_compare, runs_dir):
    assert snap_compare(PeftspecApp(runs_dir, refresh_every=60), terminal_size=SIZE, run_before=_loaded)


def _open(name: str, pane: str | None = None):
    async def run_before(pilot) -> None:
        await _loaded(pilot)
        pilot.app.push_screen(RunScreen(Path("runs") / name))
        await loaded_run_screen(pilot)
        if pane:
            pilot.app.screen.query_one(TabbedContent).active = pane
            await pilot.pause(0.2)

    return run_before


def test_run_screen_metrics(snap_compare, runs_dir):
    assert snap_compare(
        PeftspecApp(runs_dir, refresh_every=60),
        terminal_size=SIZE,
        run_before=_open("ml-lora-20260301T120000Z"),
    )


def test_confusion_per_label_heatmaps(snap_compare, runs_dir):
    assert snap_compare(
        PeftspecApp(runs_dir, refresh_every=60),
        terminal_size=SIZE,
        run_before=_open("ml-lora-20260301T120000Z", "confusion"),
    )


def test_confusion_matrix_multi_class(snap_compare, runs_dir):
    assert snap_compare(
        PeftspecApp(runs_dir, refresh_every=60),
        terminal_size=SIZE,
        run_before=_open("mc-lora-20260302T120000Z", "confusion"),
    )


def test_compare_screen(snap_compare, runs_dir):
    async def run_before(pilot) -> None:
        await _loaded(pilot)
        pilot.app.push_screen(
            CompareScreen([Path("runs/ml-lora-20260301T120000Z"), Path("runs/ml-ia3-20260301T130000Z")])
        )
        await loaded_compare_screen(pilot, 2)
        await pilot.press("b")
        await pilot.pause(0.1)

    assert snap_compare(PeftspecApp(runs_dir, refresh_every=60), terminal_size=SIZE, run_before=run_before)

"""How fast is the TUI with many runs? 1,000 runs of 200 evaluation steps each, on disk.

Measures, with Textual's headless driver: the time from starting the app until the runs table holds
every run (first usable paint), and the time from opening a run until its metric table is filled.

    python benchmarks/tui_load.py [--runs 1000] [--evals 200]

Targets: runs screen under 1.5 s, opening a run under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peftspec.tui.app import PeftspecApp
from peftspec.tui.screens.run import RunScreen
from tests.helpers.fixture_runs import write_run


def make_runs(root: Path, count: int, evals: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        write_run(
            root,
            f"exp-{i:04d}-20260101T000000Z",
            quality=0.3 + (i % 50) / 100,
            steps=2 * evals,
            eval_every=2,
            adapter=("lora", "ia3")[i % 2],
            start=start + timedelta(minutes=i),
        )


async def measure(root: Path, count: int) -> tuple[float, float]:
    from textual.widgets import DataTable

    app = PeftspecApp(root, refresh_every=60)
    started = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.screen.query_one("#runs", DataTable)
        while table.row_count < count:
            await pilot.pause(0.01)
        first_paint = time.perf_counter() - started
        opened = time.perf_counter()
        app.push_screen(RunScreen(root / "exp-0500-20260101T000000Z"))
        await pilot.pause(0)
        steps = app.screen.query_one("#steps", DataTable)
        while steps.row_count == 0:
            await pilot.pause(0.005)
        open_run = time.perf_counter() - opened
    return first_paint, open_run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--evals", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        t0 = time.perf_counter()
        make_runs(root, args.runs, args.evals)
        print(f"wrote {args.runs} runs of {args.evals} evaluations in {time.perf_counter() - t0:.1f} s")
        first_paint, open_run = asyncio.run(measure(root, args.runs))
    print(f"runs screen, all {args.runs} runs listed: {first_paint:.3f} s (target < 1.5 s)")
    print(f"open a run, metric table filled:  {open_run:.3f} s (target < 0.5 s)")


if __name__ == "__main__":
    main()

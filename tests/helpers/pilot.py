"""Waiting in Pilot-driven tests for what the TUI's worker threads deliver, not for a fixed time."""

from __future__ import annotations

from collections.abc import Callable


async def until(pilot, ready: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Pause until `ready()` holds (CI machines are slow and busy), then let the screen settle."""
    step = 0.05
    for _ in range(int(timeout / step)):
        if ready():
            await pilot.pause(0.1)
            return
        await pilot.pause(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


async def loaded_run_screen(pilot):
    """The run screen on top, once its worker has shown the run."""
    await until(pilot, lambda: getattr(pilot.app.screen, "detail", None) is not None, "the run screen")
    return pilot.app.screen


async def loaded_compare_screen(pilot, count: int):
    """The compare screen on top, once its worker has summarised `count` runs."""
    await until(pilot, lambda: len(getattr(pilot.app.screen, "runs", [])) == count, "the compare screen")
    return pilot.app.screen

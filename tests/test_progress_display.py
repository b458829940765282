"""The training progress line keeps its counts and times whole in a narrow terminal; the status
(loss, last evaluation) takes what width is left."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from peftspec.train.callbacks import ProgressDisplay


def test_a_long_status_never_squeezes_the_step_count_or_the_times():
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False)
    display = ProgressDisplay(console, "f1_macro")
    state = SimpleNamespace(max_steps=1300, global_step=0)
    display.on_train_begin(None, state, None)
    display({"event": "train", "step": 1300, "loss": 0.38981})
    display({"event": "eval", "step": 1300, "loss": 0.21934, "f1_macro": 0.91234})
    state.global_step = 1300
    display.on_step_end(None, state, None)
    display.on_train_end(None, state, None)
    lines = out.getvalue().splitlines()
    assert "step 1300: eval loss 0.2193 · f1_macro 0.9123" in lines  # every evaluation, whole
    (bar,) = [line for line in lines if line.startswith("train ")]
    assert "1300/1300" in bar and "0:00:00" in bar and "eta 00:00" in bar and "loss 0.3898" in bar
    assert len(bar) <= 80


def test_an_evaluation_before_any_logged_loss_shows_without_a_dangling_separator():
    display = ProgressDisplay(Console(file=io.StringIO(), width=120), "f1_macro")
    display({"event": "eval", "step": 4, "loss": 1.0895, "f1_macro": 0.1667})
    assert display.status == "eval loss 1.0895 · f1_macro 0.1667"
    display({"event": "train", "step": 5, "loss": 0.9})
    assert display.status == "loss 0.9000 · eval loss 1.0895 · f1_macro 0.1667"

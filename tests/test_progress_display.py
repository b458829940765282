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


def test_rows_progress_shows_only_on_a_terminal_and_for_enough_rows():
    from peftspec.progress import SHOWN_FROM, rows_progress

    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    with rows_progress(terminal, SHOWN_FROM, "labelling") as advance:
        advance(SHOWN_FROM)
    shown = terminal.file.getvalue()
    assert "labelling" in shown and f"{SHOWN_FROM}/{SHOWN_FROM}" in shown
    with rows_progress(terminal, SHOWN_FROM - 1, "labelling") as advance:
        assert advance is None  # a few batches: no bar
    with rows_progress(Console(file=io.StringIO(), force_terminal=False), 10_000, "labelling") as advance:
        assert advance is None  # piped: no bar
    with rows_progress(None, 10_000, "labelling") as advance:
        assert advance is None


def test_a_runs_final_evaluation_shows_its_progress_on_a_terminal(tmp_path, monkeypatch):
    """Scoring the saved model on validation and test can take minutes on a CPU: a bar over rows."""
    import peftspec.progress
    from peftspec.api import run_spec
    from peftspec.spec import load_spec
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    monkeypatch.setattr(peftspec.progress, "SHOWN_FROM", 1)  # the tiny splits have 32 and 40 rows
    make_tiny_workspace(tmp_path)
    spec = write_tiny_lora_spec(tmp_path, "bar", dropout=0.0, trainer="epochs = 1\nbatch_size = 32")
    monkeypatch.chdir(tmp_path)
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    run_spec(load_spec(spec), [str(spec)], console=console)
    shown = console.file.getvalue()
    assert "final evaluation: validation" in shown and "final evaluation: test" in shown
    assert "40/40" in shown  # the test split, every row

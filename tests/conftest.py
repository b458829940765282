from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

MINIMAL = """
name = "mini"

[dataset]
train = "train.csv"
labels.columns = ["joy", "anger", "fear"]

[backbone]
model = "tiny-bert"
"""


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write a spec file (dedented) under tmp_path and return its path."""

    def write(text: str, name: str = "spec.toml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _no_textual_animations(monkeypatch):
    """Apps in tests start with animations off (`TEXTUAL_ANIMATIONS=none`): after every key and
    pause, Pilot waits for running animations (toasts, tab underlines) to end, which cost the TUI
    tests about 40 s of waiting on a 2-core machine. Animations only change how a state is reached
    on screen, never the state the tests check or the snapshots show."""
    try:
        import textual.constants
    except ImportError:  # where only some tests run (the device machine's image has no textual)
        return
    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")

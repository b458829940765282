"""The guides' commands, run as written: every ```sh block of docs/comparing.md, line by line, in
a copy of the repository's specs and examples (slow: about five minutes on two cores)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ["docs/comparing.md"]


def commands(guide: str) -> list[str]:
    text = (ROOT / guide).read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_guides_have_commands():
    found = commands("docs/comparing.md")
    assert found[0].startswith("peftspec run") and any(c.startswith("peftspec sweep") for c in found)
    assert all(c.startswith("peftspec ") for c in found)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("guide", GUIDES)
def test_every_command_of_the_guide_runs(guide, tmp_path):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    for command in commands(guide):
        proc = subprocess.run(
            [sys.executable, "-m", "peftspec", *shlex.split(command)[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        if "--per-label" in command:  # each label's difference to the baseline is tested
            assert "each label of each run one comparison" in proc.stdout and "Holm" in proc.stdout
        elif "--baseline" in command and "--format markdown" in command:
            assert "paired bootstrap" in proc.stdout and "Holm" in proc.stdout

"""The tiny-BERT LoRA spec that the resume and distributed tests run, with their own trainer keys."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv


def make_tiny_workspace(root: Path) -> Path:
    """`root` with ./bert (tiny BERT), train.csv (160 rows) and test.csv (40 rows)."""
    make_backbone("bert", root / "bert")
    write_csv(synthetic_rows(160, seed=1), root / "train.csv")
    write_csv(synthetic_rows(40, seed=2), root / "test.csv")
    return root


def write_tiny_lora_spec(workspace: Path, name: str, *, dropout: float, trainer: str, tail: str = "") -> Path:
    """`workspace/<name>.toml`: train.csv/test.csv on ./bert, LoRA r=4 on query/value, runs under
    `runs-<name>`; `trainer` is the body of [trainer], `tail` more sections."""
    path = workspace / f"{name}.toml"
    path.write_text(
        f"""name = "{name}"
[dataset]
train = "train.csv"
test = "test.csv"
labels.columns = {json.dumps(EMOTIONS)}
max_length = 32
[backbone]
model = "./bert"
[adapter]
kind = "lora"
r = 4
dropout = {dropout}
target_modules = ["query", "value"]
[trainer]
{trainer}
{tail}
[tracking]
output_root = "runs-{name}"
"""
    )
    return path

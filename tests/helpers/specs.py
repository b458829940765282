"""The tiny-BERT LoRA spec that the resume and distributed tests run, with their own trainer keys;
the in-memory LoRA spec of a tiny backbone that the speed-lever and packing tests build."""

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


def write_tiny_lora_spec(
    workspace: Path, name: str, *, dropout: float, trainer: str, tail: str = "", test: bool = True
) -> Path:
    """`workspace/<name>.toml`: train.csv/test.csv (train.csv alone without `test`) on ./bert, LoRA
    r=4 on query/value, runs under `runs-<name>`; `trainer` is the body of [trainer], `tail` more
    sections."""
    path = workspace / f"{name}.toml"
    path.write_text(
        f"""name = "{name}"
[dataset]
train = "train.csv"
{'test = "test.csv"' if test else ""}
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


def train_tiny_runs(
    root: Path,
    adapters: dict[str, tuple[str, str]],
    *,
    name_prefix: str = "",
    extra: str = "",
    epochs: int = 2,
    metrics: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Train one run per entry of `adapters` ({name: (backbone folder in `root`, or a `package:`
    reference, [adapter] body)}) on `root`'s
    train.csv and validation.csv, each with tuned thresholds (and `metrics[name]`, more lines of
    its [metrics] table); returns {name: run directory}."""
    import os

    from rich.console import Console

    from peftspec.api import run_spec
    from peftspec.spec import load_spec

    out = {}
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for name, (backbone, adapter) in adapters.items():
            spec_file = root / f"{name}.toml"
            spec_file.write_text(
                f'name = "{name_prefix}{name}"\n'
                '[dataset]\ntrain = "train.csv"\nvalidation = "validation.csv"\n'
                f"{extra}labels.columns = {json.dumps(EMOTIONS)}\n"
                f'[backbone]\nmodel = "{_model(backbone)}"\n[adapter]\n{adapter}\n'
                f"[trainer]\nepochs = {epochs}\nbatch_size = 16\nlearning_rate = 5e-3\n"
                '[metrics]\nthreshold = "tuned"\n' + (metrics or {}).get(name, "")
            )
            outcome = run_spec(load_spec(spec_file), [str(spec_file)], console=Console(quiet=True))
            out[name] = root / outcome.paths.root
    finally:
        os.chdir(cwd)
    return out


def _model(backbone: str) -> str:
    return backbone if backbone.startswith("package:") else f"./{backbone}"


LORA_TARGETS = {"bert": ["query", "value"], "qwen2": ["q_proj", "v_proj"], "gemma": ["q_proj", "v_proj"]}
"""Attention projections to put LoRA on, by tiny backbone kind (`tests.helpers.tiny.make_backbone`)."""


def tiny_lora_spec(folder: Path, kind: str, pooling: str = "auto", dropout: float = 0.05, **trainer):
    """A multi-label LoRA (r=4) spec of the tiny `kind` backbone in `folder`, EMOTIONS labels,
    max_length 32; `trainer`: [trainer] keys. Validated, not written: for `build_model`."""
    from peftspec.spec.root import Spec

    return Spec.model_validate(
        {
            "name": f"tiny-{kind}",
            "dataset": {
                "train": "x.csv",
                "text_column": "text",
                "max_length": 32,
                "labels": {"format": "one_hot", "columns": EMOTIONS},
            },
            "backbone": {"model": str(folder), "pooling": pooling},
            "adapter": {"kind": "lora", "r": 4, "dropout": dropout, "target_modules": LORA_TARGETS[kind]},
            "trainer": trainer,
        }
    )

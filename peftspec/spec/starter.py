"""`peftspec init`: a short starter spec whose comments are the schema's own field docs."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

from peftspec.spec.render import to_toml
from peftspec.spec.root import Spec
from peftspec.spec.translate import model_at

STARTER: dict[str, Any] = {
    "name": "my-classifier",
    "description": "Multi-label emotion classification with LoRA.",
    "dataset": {
        "train": "data/train.csv",
        "text_column": "text",
        "validation_split": 0.2,
        "max_length": 128,
        "labels": {"format": "one_hot", "columns": ["joy", "sadness", "anger", "fear"]},
    },
    "backbone": {"model": "google-bert/bert-base-uncased"},
    "adapter": {
        "kind": "lora",
        "r": 16,
        "alpha": 32.0,
        "dropout": 0.05,
        "target_modules": ["query", "key", "value"],
    },
    "trainer": {
        "epochs": 3.0,
        "batch_size": 32,
        "learning_rate": 5e-4,
        "weight_decay": 0.01,
        "eval_strategy": "epoch",
        "best_metric": "f1_macro",
    },
    "tracking": {"output_root": "runs"},
}


def starter_toml(
    dataset: dict[str, Any] | None = None,
    name: str | None = None,
    model: str | None = None,
    notes: list[str] | None = None,
    spec_name: str = "spec.toml",
    description: str = "",
    metrics: dict[str, Any] | None = None,
) -> str:
    """The starter spec as commented TOML. `dataset`: a `[dataset]` table to use instead of the
    example's (`peftspec init --data`), with `notes` on how it was guessed; `model`: the backbone
    (its adapter modules and learning rate are then left to peftspec's defaults for it);
    `metrics`: a `[metrics]` table the data asks for."""
    spec = copy.deepcopy(STARTER)
    if dataset is not None:
        spec["dataset"] = dataset
        spec["description"] = description
        del spec["trainer"]["best_metric"]  # the task's own primary metric
    if metrics:
        spec["metrics"] = metrics
    if name:
        spec["name"] = name
    if model:
        spec["backbone"]["model"] = model
        del spec["adapter"]["target_modules"], spec["trainer"]["learning_rate"]
    Spec.model_validate(spec)  # the starter must always be a valid spec
    header = (
        f"# A peftspec spec. Check it: peftspec lint {spec_name}   Run it: peftspec run {spec_name}\n"
        f"# Every key and its default: docs/spec-reference.md, or `peftspec render {spec_name}`.\n"
    )
    if notes:
        header += "# [dataset] was guessed from the data by `peftspec init --data`; check it:\n"
        header += "".join(f"#   {line}\n" for note in notes for line in _wrapped(note))
    return header + to_toml(spec, lambda path: _comment(spec, path))


def _wrapped(note: str) -> list[str]:
    lines = textwrap.wrap(note, width=92)
    return lines[:1] + ["  " + line for line in lines[1:]]


def _comment(spec: dict[str, Any], path: tuple[str, ...]) -> str | None:
    model = model_at(Spec, path[:-1], spec)
    if model is None or path[-1] not in model.model_fields:
        return None
    description = " ".join((model.model_fields[path[-1]].description or "").split())
    return textwrap.fill(description, width=96) or None

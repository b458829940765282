"""`peftspec init`: a short starter spec whose comments are the schema's own field docs."""

from __future__ import annotations

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


def starter_toml() -> str:
    Spec.model_validate(STARTER)  # the starter must always be a valid spec
    header = (
        "# A peftspec spec. Check it: peftspec lint spec.toml   Run it: peftspec run spec.toml\n"
        "# Every key and its default: docs/spec-reference.md, or `peftspec render spec.toml`.\n"
    )
    return header + to_toml(STARTER, _comment)


def _comment(path: tuple[str, ...]) -> str | None:
    model = model_at(Spec, path[:-1], STARTER)
    if model is None or path[-1] not in model.model_fields:
        return None
    description = " ".join((model.model_fields[path[-1]].description or "").split())
    return textwrap.fill(description, width=96) or None

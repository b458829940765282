"""Load the runs a server serves, each once; runs trained on the same backbone share its weights.

Runs share a backbone when they name the same model, revision, dtype, quantisation, precision and
attention, have the same task and number of labels, and were trained with the same tokenizer
vocabulary: the backbone is loaded from disk once, and every run gets its own module tree (its own
adapter and classification head) over the same weight tensors, so serving LoRA, IA3 and a second
LoRA of one backbone costs one copy of its weights. Full fine-tuning runs keep their own weights.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peftspec.errors import UsageError
from peftspec.inference.loaded import LoadedRun, RunNotUsable
from peftspec.runs import Run, read_run


@dataclass
class ServedRun:
    """One run as served: its loaded model, and which backbone copy it uses."""

    loaded: LoadedRun
    backbone_key: str | None
    """Runs with the same key share one copy of the backbone's weights (None: its own weights)."""
    max_length: int = 128
    shares_with: list[str] = field(default_factory=list)

    @property
    def run(self) -> Run:
        return self.loaded.run

    @property
    def name(self) -> str:
        return self.run.display_name

    @property
    def run_id(self) -> str:
        return self.run.name

    @property
    def pairs(self) -> bool:
        """Whether the run classifies text pairs (each request then sends `text_pairs`)."""
        return self.loaded.spec.dataset.text_pair_column is not None

    def describe(self) -> dict[str, Any]:
        """The run as `GET /v1/models` lists it."""
        record, overview = self.run.record, self.run.record.overview
        thresholds = self.run.thresholds_used()
        return {
            "name": self.name,
            "id": self.run_id,
            "task": self.loaded.task,
            "labels": self.loaded.label_names,
            "thresholds": thresholds.get("values"),
            "threshold_mode": thresholds.get("mode"),
            "score_temperature": self.loaded.temperature,
            "backbone": record.backbone,
            "adapter": overview.adapter if overview else record.adapter,
            "quantization": record.quantization,
            "max_length": self.max_length,
            "text_pairs": self.pairs,
            "shares_backbone_with": self.shares_with,
        }

    def listed(self) -> dict[str, Any]:
        """The run as OpenAI's `GET /v1/models` lists a model (`client.models.list()` reads it): its
        id (which `model` takes), when it was trained (Unix seconds), and by whom."""
        from datetime import datetime

        try:  # tolerant of a damaged record: 0, as for a run that never said
            created = int(datetime.fromisoformat(self.run.record.started_at or "").timestamp())
        except ValueError:
            created = 0
        return {"id": self.run_id, "object": "model", "created": created, "owned_by": "peftspec"}


def backbone_key(run: Run, spec) -> str | None:
    """What must agree for two runs to share a backbone's weights (None: the run has its own)."""
    if spec.adapter.trains_backbone:
        return None
    parts = {
        "backbone": spec.backbone.model_dump(mode="json"),
        "quantization": spec.quantization.model_dump(mode="json"),
        "precision": run.record.precision,
        "task": run.record.task,
        "labels": len(run.record.labels),
        "added_pad_token": run.record.added_pad_token,
        "pooling": run.record.model.pooling if run.record.model is not None else None,
    }
    return json.dumps(parts, sort_keys=True)


def load_served(paths: list[str | Path], batch_size: int | None = None) -> list[ServedRun]:
    """Load each completed run once (names must be unique); runs that agree on their backbone share it."""
    from peftspec.build.environment import quiet_libraries
    from peftspec.build.model import attach_trained, load_backbone_for, load_trained, recorded_pooling
    from peftspec.spec import load_spec

    quiet_libraries()
    bases: dict[str, Any] = {}
    served: list[ServedRun] = []
    for path in paths:
        run = read_run(path)
        if run.status != "completed":
            raise RunNotUsable(f"{run.name} is {run.status}, not completed: it has no final model to serve")
        spec = load_spec(run.paths.spec)
        key = backbone_key(run, spec)
        record = run.record
        if key is None:
            model, tokenizer = load_trained(
                spec,
                record.labels,
                run.weights_folder,
                record.added_pad_token,
                record.precision or "fp32",
                recorded_pooling(record),
            )
        else:
            if key not in bases:
                bases[key] = load_backbone_for(spec, record.labels, run.weights_folder, record)
            model, tokenizer = attach_trained(
                spec, shared_copy(bases[key]), run.weights_folder, record.labels
            )
        loaded = LoadedRun(run, spec, model, tokenizer, batch_size)
        served.append(ServedRun(loaded, key, spec.dataset.max_length))
    _check_names(served)
    for one in served:
        if one.backbone_key is not None:
            one.shares_with = [
                o.run_id for o in served if o is not one and o.backbone_key == one.backbone_key
            ]
    return served


def shared_copy(module):
    """A copy of `module` whose parameters and buffers are the very same tensors (no weight copied):
    adapters injected into the copy leave the original, and every other copy, untouched."""
    memo = {id(t): t for t in (*module.parameters(), *module.buffers())}
    return copy.deepcopy(module, memo)


def _check_names(served: list[ServedRun]) -> None:
    ids = [s.run_id for s in served]
    if len(set(ids)) != len(ids):
        raise UsageError("the same run is named twice", hint="name each run once")

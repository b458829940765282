"""`run.json` as a typed record: what a run is, how it went, where it ran.

Strict on what peftspec writes (`RunWriter.update` accepts only these fields), tolerant on what it
reads (`RunRecord.from_stored`): a value of the wrong type falls back to the field's default with a
warning, an unknown key (a newer peftspec, a hand edit) is kept and warned about, a missing one is
defaulted. Older records are read too: `schema` became `record_version`, `plan` became `overview`.
Imports no torch.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

RECORD_VERSION = 2
"""Version 2: typed record (`overview`, `record_version`); version 1 wrote `plan` and `schema`."""

Status = Literal["running", "completed", "failed", "interrupted", "unknown"]
LEGACY_KEYS = {"schema": "record_version", "plan": "overview"}


class Part(BaseModel):
    """A nested part of the record: unknown keys are kept, as on the record itself."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)


class Overview(Part):
    """What the run trains, on what, for how long: the table printed before training."""

    backbone: str | None = None
    adapter: str | None = None
    """The adapter in one line, e.g. `lora r=8 on query, value`."""
    quantization: str | None = None
    task: str | None = None
    labels: int | None = None
    positive_class: str | None = None
    """The class that `f1`, `precision` and `recall` score in a binary task (the second label)."""
    trainable_parameters: int | None = None
    total_parameters: int | None = None
    rows: dict[str, int] = Field(default_factory=dict)
    steps_per_epoch: int | None = None
    total_steps: int | None = None
    effective_batch: int | None = None
    device: str | None = None
    precision: str | None = None
    pooling: str | None = None
    """The pooling in one line, with why it was chosen and what it trains."""
    head: str | None = None
    """How the classification head starts (its bias at the training labels' frequencies, or not)."""
    learning_rate: str | None = None
    """The learning rate, and where it came from (the spec, or the default for this adapter and backbone)."""
    speedups: list[str] = Field(default_factory=list)
    """The fast defaults in force (`off:` marks one the spec turned off)."""
    class_weights: str | None = None
    """The loss's label weights (`trainer.class_weights`), each label's weight spelled out."""
    truncated: str | None = None
    """How many texts of each split `dataset.max_length` cut, and the longest (`build.truncation`)."""
    held_out: str | None = None
    """How the validation rows were held out of the training data (share, by label or at random,
    seed); unset when the spec gives validation data."""
    decisions: str | None = None
    """How predictions are decided from the scores: thresholds (fixed, or tuned on validation for
    a metric), or the arg-max."""


def positive_class(task: str | None, labels: list[str]) -> str | None:
    """A binary task's positive class: the second of its two labels (class 1), the one its `f1`,
    `precision` and `recall` score; None for other tasks."""
    return labels[1] if task == "binary" and len(labels) == 2 else None


def task_line(task: str | None, labels: int, positive: str | None = None) -> str:
    """The task as the overview and reports show it: `multi_label, 11 labels`, or for a binary task
    `binary, 2 labels, positive class 'spam'`."""
    return f"{task}, {labels} labels" + (f", positive class {positive!r}" if positive else "")


class ModelFacts(Part):
    architecture: str | None = None
    wrapped_modules: list[str] = Field(default_factory=list)
    pooling: str | None = None
    """How the head saw the sequence: cls, pooler, mean or last (unset: the head's own, as
    recorded before pooling was a choice)."""
    head_pooling: str | None = None
    """The pooling the architecture's own head does; where it differs from `pooling`, a standard
    `AutoModelForSequenceClassification` load would pool differently."""


class Best(Part):
    """The best checkpoint, as the Trainer chose it by `trainer.best_metric`."""

    metric: str | None = None
    value: float | None = None
    step: int | None = None
    checkpoint: str | None = None
    """Relative to the run directory."""


class RunFailure(Part):
    """Why a run failed or stopped."""

    type: str | None = None
    message: str | None = None
    traceback: str | None = None
    rank: int | None = None
    host: str | None = None
    resume: str | None = None
    """For an interrupted run: the command that continues it."""


class Resumption(Part):
    at: str | None = None
    from_step: int | None = None
    previous_status: str | None = None
    changes: dict[str, list[Any]] = Field(default_factory=dict)
    """Spec keys allowed to differ on resume: key -> [recorded, new]."""


class WandbFacts(Part):
    project: str | None = None
    mode: str | None = None
    id: str | None = None
    url: str | None = None


class GroupFacts(Part):
    """Replicates: runs of one spec that differ only in their seed (`peftspec run --seeds`), or in
    the fold they validate on (`peftspec run --folds K`)."""

    id: str | None = None
    """The group's name, shared by its runs (the spec's name and the time the group started)."""
    index: int | None = None
    """This run's place in the group (0-based)."""
    size: int | None = None
    """Runs the group was started with."""
    seeds: list[int] = Field(default_factory=list)
    """The group's seeds, in order; this run's is `RunRecord.seed`."""
    varies: list[str] = Field(default_factory=list)
    """The spec keys set from the seed (`trainer.seed`, and `dataset.split_seed` with --vary-split),
    or `dataset.fold`."""
    folds: int | None = None
    """k-fold cross-validation: the runs validate on folds 0 to k-1 (`dataset.fold`); unset = seeds."""

    @property
    def unit(self) -> str:
        """What the group's runs are: `folds` or `seeds`."""
        return "folds" if self.folds else "seeds"


class RunRecord(Part):
    """Everything `run.json` holds. Field names are the file's keys."""

    record_version: int = RECORD_VERSION
    run: str | None = None
    """The run directory's name."""
    name: str | None = None
    """The spec's `name`."""
    description: str = ""
    status: Status = "unknown"
    started_at: str | None = None
    heartbeat_at: str | None = None
    updated_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    """Seconds of training, resumes included (time between a kill and its resume not counted)."""
    active_before_s: float | None = None
    spec_file: str | None = None
    overrides: list[str] = Field(default_factory=list)
    backbone: str | None = None
    adapter: str | None = None
    quantization: str | None = None
    task: str | None = None
    labels: list[str] = Field(default_factory=list)
    rows: dict[str, int] = Field(default_factory=dict)
    data_hashes: dict[str, str] = Field(default_factory=dict)
    data_warnings: list[str] = Field(default_factory=list)
    """What the data check warned about before training (validation or test rows seen in training,
    texts labelled two ways, labels never seen, ...), each with its file: figures that rest on
    such data say so wherever they are shown."""
    seed: int | None = None
    precision: str | None = None
    world_size: int = 1
    versions: dict[str, str | None] = Field(default_factory=dict)
    device: dict[str, Any] = Field(default_factory=dict)
    git_commit: str | None = None
    overview: Overview | None = None
    added_pad_token: bool = False
    model: ModelFacts | None = None
    weights: Literal["adapter", "model"] | None = None
    """Which folder holds the trained weights: the adapter, or the whole model (no adapter)."""
    best: Best | None = None
    steps: int | None = None
    """Optimizer steps when training ended."""
    step: int | None = None
    """The step of the last heartbeat (while running)."""
    max_steps: int | None = None
    error: RunFailure | None = None
    resumed: list[Resumption] = Field(default_factory=list)
    wandb: WandbFacts | None = None
    distributed: dict[str, Any] | None = None
    group: GroupFacts | None = None
    """Set when the run is one of a group of replicates."""
    trial: dict[str, Any] | None = None
    """Set when the run is a sweep's trial: the study, its number and parameters (`peftspec sweep`)."""

    @classmethod
    def from_stored(cls, data: Any, where: str = "run.json") -> tuple[RunRecord, list[str]]:
        """The record in `data` (parsed JSON), and a warning for every value it had to drop."""
        warnings: list[str] = []
        if not isinstance(data, dict):
            if data is not None:
                warnings.append(f"{where}: not a JSON object ({type(data).__name__}); ignored")
            return cls(), warnings
        data = {LEGACY_KEYS.get(k, k): v for k, v in data.items()}
        return _tolerant(cls, data, where, warnings), warnings

    @property
    def positive_class(self) -> str | None:
        """A binary run's positive class (see `positive_class`)."""
        return positive_class(self.task, self.labels)

    def stored(self) -> dict[str, Any]:
        """The JSON object written to run.json."""
        return self.model_dump(mode="json")

    def active_seconds(self) -> float:
        """Seconds already trained: the recorded duration of an ended run, or for a killed one the
        time from its last (re)start to its last heartbeat, plus what came before that restart."""
        if self.duration_s is not None and self.status != "running":
            return float(self.duration_s)
        since_text = self.resumed[-1].at if self.resumed else self.started_at
        try:
            since = datetime.fromisoformat(since_text or "")
            beat = datetime.fromisoformat(self.heartbeat_at or since.isoformat())
        except (TypeError, ValueError):
            return float(self.active_before_s or 0.0)
        return float(self.active_before_s or 0.0) + max(0.0, (beat - since).total_seconds())


def _tolerant(model: type[Part], data: dict[str, Any], where: str, warnings: list[str]) -> Part:
    values: dict[str, Any] = {}
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            values[key] = value
            warnings.append(f"{where}: unknown key {key!r} kept as it is (written by a newer peftspec?)")
            continue
        nested = _part_of(field.annotation)
        if nested is not None and isinstance(value, dict):
            values[key] = _tolerant(nested, value, f"{where}: {key}", warnings)
        elif nested is not None and typing.get_origin(field.annotation) is list and isinstance(value, list):
            items = []
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    items.append(_tolerant(nested, item, f"{where}: {key}[{i}]", warnings))
                else:
                    warnings.append(f"{where}: {key}[{i}] is not an object; dropped")
            values[key] = items
        else:
            try:
                values[key] = _adapter(model, key).validate_python(value)
            except ValidationError:
                shown = repr(value)[:60]
                warnings.append(f"{where}: {key} = {shown} is not a valid value; using the default")
    return model.model_construct(**values)


def _part_of(annotation: Any) -> type[Part] | None:
    """The `Part` class inside `X | None` or `list[X]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, Part):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (typing.Union, list):
        for arg in typing.get_args(annotation):
            found = _part_of(arg)
            if found is not None:
                return found
    return None


@cache
def _adapter(model: type[Part], key: str) -> TypeAdapter:
    return TypeAdapter(model.model_fields[key].annotation)

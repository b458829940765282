"""`load_run(path)`: a trained run, ready to label text with its own labels and thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from peftspec.errors import UserError
from peftspec.runs import Run, read_run
from peftspec.spec import Spec, load_spec


class RunNotUsable(UserError):
    """The run cannot be used for inference (not completed, or its model is missing)."""

    title = "Cannot use the run"


@dataclass
class Labelled:
    """Scores and decisions for a batch of texts, in input order."""

    scores: np.ndarray
    """(rows, labels) probabilities: sigmoid per label (multi-label) or softmax over classes."""
    predicted: np.ndarray
    """(rows, labels) 0/1 (multi-label) or (rows,) class indices."""
    label_names: list[str]
    logits: np.ndarray | None = None
    """(rows, labels) the logits the scores come from: the model's, divided by the run's
    calibration temperature (`metrics.calibration`)."""

    def rows(self, start: int, end: int) -> Labelled:
        """Rows `start` to `end` (exclusive) of this result."""
        logits = None if self.logits is None else self.logits[start:end]
        return Labelled(self.scores[start:end], self.predicted[start:end], self.label_names, logits)

    def labels(self) -> list[list[str]] | list[str]:
        """Predicted label names: a list per row (multi-label) or one name per row."""
        if self.predicted.ndim == 2:
            return [[self.label_names[j] for j in np.flatnonzero(row)] for row in self.predicted]
        return [self.label_names[i] for i in self.predicted]


def labelled_rows(texts: list[str], pairs: list[str] | None = None) -> list[int]:
    """The rows that can be labelled: those with a text and, for a run on text pairs, a second
    text, as training requires. `predict` and `serve` keep the others unlabelled, flagged empty."""
    return [i for i, text in enumerate(texts) if text.strip() and (pairs is None or pairs[i].strip())]


class LoadedRun:
    def __init__(self, run: Run, spec: Spec, model, tokenizer, batch_size: int | None = None):
        self.run, self.spec, self.model, self.tokenizer = run, spec, model, tokenizer
        self.task: str = run.record.task or spec.dataset.task
        self.label_names: list[str] = list(run.record.labels)
        self.batch_size = batch_size or spec.trainer.eval_batch_size
        self.thresholds = decision_thresholds(run, self.task, self.label_names)
        self.temperature = run.temperature()
        """What the logits are divided by before they become scores (`metrics.calibration`)."""

    def predict(self, texts: list[str], pairs: list[str] | None = None, progress=None) -> Labelled:
        """Label `texts` (and `pairs`, the second text of each, for a run on text pairs) with the
        run's model and thresholds."""
        self._check_pairs(texts, pairs)
        from peftspec.build.data import Split
        from peftspec.build.predict import predict
        from peftspec.build.tokenize import collator, to_dataset
        from peftspec.metrics.scoring import decide

        placeholder = np.zeros(
            (len(texts), len(self.label_names)) if self.task == "multi_label" else len(texts)
        )
        split = Split("predict", list(texts), [str(i) for i in range(len(texts))], placeholder, pairs)
        dataset = to_dataset(
            split, self.tokenizer, self.spec.dataset.max_length, self.task, self.spec.dataset.truncate
        )
        logits = predict(
            self.model, dataset, collator(self.tokenizer), self.batch_size, self.task, progress
        ).logits
        scores = self.scores(logits)
        decided = decide(scores, self.task, self.thresholds)
        return Labelled(scores, decided, self.label_names, np.asarray(logits) / self.temperature)

    def scores(self, logits: np.ndarray) -> np.ndarray:
        """The run's scores of `logits`: after its calibration temperature, as it reported them."""
        from peftspec.metrics.scoring import scores_from_logits

        return scores_from_logits(logits / self.temperature, self.task)

    def _check_pairs(self, texts: list[str], pairs: list[str] | None) -> None:
        from peftspec.errors import UsageError

        column = self.spec.dataset.text_pair_column
        if column is not None and pairs is None:
            raise UsageError(
                f"{self.run.name} was trained on text pairs ({column!r} with each text)",
                hint="pass the second texts too: predict(texts, pairs)",
            )
        if column is None and pairs is not None:
            raise UsageError(f"{self.run.name} was trained on single texts", hint="leave out `pairs`")
        if pairs is not None and len(pairs) != len(texts):
            raise UsageError(f"{len(texts)} texts but {len(pairs)} pairs", hint="pass one pair per text")


def decision_thresholds(run: Run, task: str, label_names: list[str]):
    """The run's per-label thresholds (multi-label), or a binary run's one on its positive class,
    from thresholds.json or, failing that, eval.json; a run with neither cannot decide as it was
    evaluated, and is refused. None: the arg-max (multi-class runs, binary runs at 0.5)."""
    mode = (run.thresholds() or {}).get("mode") or run.thresholds_used().get("mode")
    if task == "multi_class" or (task == "binary" and mode in (None, "argmax")):
        return None
    if task == "binary":
        label_names = label_names[1:]  # the positive class's threshold
    for source, values in (
        (run.paths.thresholds.name, (run.thresholds() or {}).get("values")),
        (run.paths.eval.name, run.thresholds_used().get("values")),
    ):
        if isinstance(values, dict) and all(isinstance(values.get(n), int | float) for n in label_names):
            if source != run.paths.thresholds.name:
                run.warnings.append(
                    f"thresholds read from {source}: {run.paths.thresholds.name} is missing or damaged"
                )
            return np.array([float(values[n]) for n in label_names])
    raise RunNotUsable(
        f"{run.name} has no readable decision thresholds ({run.paths.thresholds.name} is missing or damaged, "
        f"and {run.paths.eval.name} has none): its predictions would not be the ones it was evaluated with"
    )


def load_run(path: str | Path, batch_size: int | None = None) -> LoadedRun:
    """Load a completed run's model (backbone plus adapter, or the fine-tuned model) for inference."""
    from peftspec.build.environment import quiet_libraries
    from peftspec.build.model import load_trained, recorded_pooling

    quiet_libraries()
    run = read_run(path)
    if run.status != "completed":
        raise RunNotUsable(f"{run.name} is {run.status}, not completed: it has no final model to use")
    folder = run.weights_folder
    if not folder.is_dir():
        raise RunNotUsable(f"{run.name} has no saved model ({folder} is missing)")
    spec = load_spec(run.paths.spec)
    record = run.record
    model, tokenizer = load_trained(
        spec,
        record.labels,
        folder,
        record.added_pad_token,
        record.precision or "fp32",
        recorded_pooling(record),
    )
    return LoadedRun(run, spec, _to_device(model, spec), tokenizer, batch_size)


def _to_device(model, spec: Spec):
    import torch

    if torch.cuda.is_available() and spec.quantization.method == "none":
        return model.to("cuda")
    return model

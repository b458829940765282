"""The final evaluation: scores on validation and test, thresholds, metrics, confusion, predictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from peftspec.build.data import DataBundle, Split
from peftspec.metrics.crossfit import CROSSFIT_FOLDS, crossfit_decisions, crossfit_scores
from peftspec.metrics.health import prediction_health
from peftspec.metrics.registry import METRICS, PRIMARY_METRIC, by_argmax, compute
from peftspec.metrics.scoring import confusion, decide, scores_from_logits
from peftspec.metrics.tuning import tune_thresholds
from peftspec.runs.layout import AT_HALF_KEY, CROSSFIT_KEY


@dataclass
class SplitResult:
    split: Split
    scores: np.ndarray
    predicted: np.ndarray
    metrics: dict[str, Any]
    confusion: dict[str, Any]


@dataclass
class FinalEvaluation:
    thresholds: dict[str, Any]
    results: dict[str, SplitResult] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        """What a reader of these figures must know: labels whose threshold could not be tuned,
        predictions that do not depend on the input."""
        out = [
            f"threshold of {label!r} not tuned (kept at 0.5): {reason}"
            for label, reason in (self.thresholds.get("untuned") or {}).items()
        ]
        for name, result in self.results.items():
            out += [f"{name}: {w}" for w in result.metrics.get("health", {}).get("warnings", [])]
        return out

    def eval_json(self) -> dict[str, Any]:
        return {
            "thresholds": self.thresholds,
            "warnings": self.warnings(),
            **{name: r.metrics for name, r in self.results.items()},
        }

    def confusion_json(self) -> dict[str, Any]:
        return {name: r.confusion for name, r in self.results.items()}


def thresholds_for(
    mode: float | str, bundle: DataBundle, val_scores: np.ndarray, tune_for: str | None = None
) -> dict[str, Any]:
    names, task = bundle.label_names, bundle.task
    if by_argmax(task, mode):
        return {"mode": "argmax", "values": None}
    if task == "binary":  # one threshold, on the positive class's score
        names = names[1:]
    if mode == "tuned":
        objective = tune_for or PRIMARY_METRIC[task]
        tuning = tune_thresholds(val_scores, bundle.validation.labels, objective, task)
        return {
            "mode": "tuned",
            "tuned_on": "validation",
            "tuned_for": tuning.objective,
            "method": tuning.method,
            "scope": tuning.scope,
            "score_on_tuning_rows": tuning.score,
            "report": "test" if bundle.test is not None else "validation, cross-fitted",
            "values": dict(zip(names, tuning.values.tolist())),
            "untuned": {names[j]: reason for j, reason in tuning.untuned.items()},
        }
    return {"mode": "fixed", "values": dict.fromkeys(names, float(mode))}


def temperature_record(val_logits: np.ndarray, val_gold: np.ndarray) -> dict[str, Any]:
    """The temperature fitted on validation's logits, as the run records it (with the thresholds):
    what it is, where it was fitted, and validation's log-loss before and after."""
    from peftspec.metrics.calibration import fit_temperature, log_loss

    temperature = fit_temperature(val_logits, val_gold)
    return {
        "method": "temperature",
        "temperature": temperature,
        "fitted_on": "validation",
        "log_loss_before": log_loss(val_logits, val_gold),
        "log_loss_after": log_loss(np.asarray(val_logits) / temperature, val_gold),
    }


def evaluate_split(
    split: Split,
    logits: np.ndarray,
    stats: dict[str, float],
    bundle: DataBundle,
    names: list[str],
    thresholds: dict[str, Any],
) -> SplitResult:
    task = bundle.task
    scores = scores_from_logits(logits, task)
    cut = np.array(list(thresholds["values"].values())) if thresholds["values"] else None
    predicted = decide(scores, task, cut)
    metrics = {**stats, **compute(names, task, split.labels, predicted, bundle.label_names, scores)}
    metrics["health"] = prediction_health(scores, predicted, task, bundle.label_names)
    fitted = [m for m in names if METRICS[m].fitted_by_temperature]
    if fitted and (thresholds.get("calibration") or {}).get("fitted_on") == split.name:
        honest = crossfit_scores(logits, split.labels, task)  # each half's temperature from the other
        metrics[CROSSFIT_KEY] = {
            **_scalars(compute(fitted, task, split.labels, predicted, bundle.label_names, honest)),
            "folds": CROSSFIT_FOLDS,
        }
    if thresholds["mode"] == "tuned":
        fixed = decide(scores, task, None)  # every label at 0.5; a binary task's arg-max
        metrics[AT_HALF_KEY] = _scalars(compute(names, task, split.labels, fixed, bundle.label_names))
        if split.name == thresholds.get("tuned_on"):
            objective = thresholds.get("tuned_for") or "f1_macro"
            crossfit = crossfit_decisions(scores, split.labels, objective, task=task)
            metrics[CROSSFIT_KEY] = {
                **metrics.get(CROSSFIT_KEY, {}),
                **_scalars(compute(names, task, split.labels, crossfit, bundle.label_names)),
                "folds": CROSSFIT_FOLDS,
            }
    return SplitResult(
        split, scores, predicted, metrics, confusion(task, split.labels, predicted, bundle.label_names)
    )


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if isinstance(v, float)}


def predictions_frame(results: dict[str, SplitResult], task: str, label_names: list[str] | None = None):
    """One row per evaluated example: split, id, text (and pair), gold, scores, predicted, and (with
    `label_names`) the gold and predicted labels by name, so the file reads on its own."""
    import polars as pl

    frames = []
    for name, r in results.items():
        frames.append(
            prediction_rows(
                name,
                r.split.ids,
                r.split.texts,
                r.split.labels,
                r.scores,
                r.predicted,
                label_names,
                r.split.pairs,
            )
        )
    return pl.concat(frames) if frames else None


def prediction_rows(
    split: str,
    ids,
    texts,
    gold,
    scores,
    predicted,
    label_names: list[str] | None = None,
    pairs: list[str] | None = None,
):
    """The rows of one split in the layout of predictions.parquet (a run on text pairs also has
    the second text of each, as `pair`)."""
    import polars as pl

    gold = np.asarray(gold).astype(np.int64)
    columns = {
        "split": [split] * len(ids),
        "id": list(ids),
        "text": list(texts),
        **({"pair": list(pairs)} if pairs is not None else {}),
        "gold": gold.tolist(),
        "scores": np.asarray(scores).astype(np.float32).tolist(),
        "predicted": np.asarray(predicted).tolist(),
    }
    if label_names:
        columns["gold_labels"] = [_names(row, label_names) for row in gold]
        columns["predicted_labels"] = [_names(row, label_names) for row in np.asarray(predicted)]
    return pl.DataFrame(columns)


def _names(row, label_names: list[str]) -> list[str]:
    """Label names of a 0/1 row (multi-label) or of a class index."""
    if np.ndim(row) == 0:
        return [label_names[int(row)]]
    return [label_names[j] for j in np.flatnonzero(row)]

"""`trainer.class_weights`: per-label (multi-label, BCE `pos_weight`) or per-class (single-label,
weighted cross-entropy) weights from the training labels, and the loss that applies them."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from peftspec.errors import UserError


class ClassWeightError(UserError):
    title = "trainer.class_weights"


def class_weights(
    setting: str | Mapping[str, float], task: str, names: list[str], labels
) -> list[float] | None:
    """The weights, one per label or class, or None for `"none"`.

    `"balanced"`: multi-label, each label's negatives over its positives in the training rows (a
    label seen 40 times in 4,000 rows weighs 99); single-label, rows / (classes x rows of the class),
    as scikit-learn's `balanced`. A label or class with no training row keeps 1. A table names
    labels and their weights; the labels it leaves out keep 1."""
    if setting == "none":
        return None
    labels = np.asarray(labels)
    if isinstance(setting, Mapping):
        unknown = [name for name in setting if name not in names]
        if unknown:
            from peftspec.spec.diagnostics import did_you_mean

            hints = [
                f"{n!r}" + (f" (did you mean {did_you_mean(n, names)!r}?)" if did_you_mean(n, names) else "")
                for n in unknown
            ]
            raise ClassWeightError(
                f"trainer.class_weights names labels the data does not have: {', '.join(hints)}",
                hint=f"the labels are: {', '.join(names)}",
            )
        return [float(setting.get(name, 1.0)) for name in names]
    rows = len(labels)
    if task == "multi_label":
        positives = labels.sum(axis=0)
        return [float((rows - p) / p) if p > 0 else 1.0 for p in positives]
    counts = np.bincount(labels.astype(np.int64), minlength=len(names))
    return [float(rows / (len(names) * c)) if c > 0 else 1.0 for c in counts]


def describe(
    setting: str | Mapping[str, float], weights: list[float] | None, names: list[str], task: str
) -> str:
    """One line for the plan and the run record."""
    if weights is None:
        return "none"
    kind = "pos_weight of BCE" if task == "multi_label" else "cross-entropy class weights"
    how = "balanced from the training labels" if setting == "balanced" else "as the spec sets them"
    listed = ", ".join(f"{n} {w:.3g}" for n, w in zip(names, weights))
    return f"{how} ({kind}): {listed}"


def weighted_loss(weights: list[float], task: str):
    """`compute_loss_func` for the HF Trainer: the task's loss with `weights`. Under gradient
    accumulation the Trainer passes the items in the whole accumulated batch, and the loss is the
    sum over this batch divided by them (the Trainer then does not divide again)."""
    import torch
    import torch.nn.functional as F

    table = torch.tensor(weights, dtype=torch.float32)

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        w = table.to(logits.device)
        if task == "multi_label":
            each = F.binary_cross_entropy_with_logits(
                logits.float(), labels.float(), pos_weight=w, reduction="none"
            )
        else:
            each = F.cross_entropy(logits.float(), labels.long(), weight=w, reduction="none")
        if num_items_in_batch is None:
            return each.mean()
        return each.sum() / num_items_in_batch

    return loss

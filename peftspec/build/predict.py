"""Batched inference in the data's own order: batches sorted by length, order restored after."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Prediction:
    logits: np.ndarray
    loss: float | None
    runtime: float
    samples_per_second: float

    def stats(self) -> dict[str, float]:
        out = {"runtime": round(self.runtime, 4), "samples_per_second": round(self.samples_per_second, 3)}
        return {"loss": self.loss, **out} if self.loss is not None else out


def predict(
    model,
    dataset,
    collate,
    batch_size: int,
    task: str,
    progress=None,
    precision: str = "fp32",
    loss_function=None,
    training: bool = False,
    forward=None,
) -> Prediction:
    """Logits for every row of a tokenised dataset, in row order, and the mean loss if it has labels.

    Rows are batched longest first so each batch pads little; the order is restored at the end.
    `progress`, if given, is called with the number of rows done after each batch. `precision`
    bf16 or fp16 runs the model under autocast, as training does (in-training evaluations; the
    final evaluation scores the saved model as `peftspec predict` and `serve` do, without).
    `loss_function`: the run's loss (`compute_loss_func` of the Trainer, e.g. with class weights); None = the
    task's plain loss. `training`: the model goes on training afterwards, so the pass runs under
    `torch.no_grad` rather than `torch.inference_mode`: tensors a module caches during inference
    mode cannot take part in autograd later, and bitsandbytes repacks its 4-bit CPU weights for
    inference when it sees an input that needs no gradient (training on afterwards fails).
    `forward`: batch (on the device, without labels) -> logits, for batches `collate` makes that
    the model does not take as they are (packed rows, `peftspec.build.packing`); None = the
    model's own call.
    """
    import contextlib

    import torch

    device = next(model.parameters()).device
    order = longest_first([len(ids) for ids in dataset["input_ids"]])
    if hasattr(dataset, "select"):  # a `datasets.Dataset`: one read of the table, not one per row
        rows_in_order = dataset.select(order).to_list()
    else:
        rows_in_order = [dataset[int(i)] for i in order]
    model.eval()
    if training and device.type == "cpu":
        keep_4bit_weights_trainable(model)
    parts, loss_sum = [], None
    autocast = (
        torch.autocast(device.type, dtype=getattr(torch, {"bf16": "bfloat16", "fp16": "float16"}[precision]))
        if precision in ("bf16", "fp16")
        else contextlib.nullcontext()
    )
    start = time.perf_counter()
    grad_mode = torch.no_grad() if training else torch.inference_mode()
    with grad_mode, autocast:
        for first in range(0, len(order), batch_size):
            rows = rows_in_order[first : first + batch_size]
            batch = {k: v.to(device, non_blocking=True) for k, v in collate(rows).items()}
            labels = batch.pop("labels", None)
            logits = (forward(batch) if forward is not None else model(**batch).logits).float()
            parts.append(logits)  # stays on the device: one transfer at the end, no sync per batch
            if labels is not None:
                each = (
                    loss_function({"logits": logits}, labels)
                    if loss_function is not None
                    else _loss(logits, labels, task)
                )
                loss_sum = each * len(rows) if loss_sum is None else loss_sum + each * len(rows)
            if progress is not None:
                progress(len(rows))
        gathered = torch.cat(parts).cpu().numpy() if parts else None
        loss = float(loss_sum) / len(order) if loss_sum is not None else None
    runtime = time.perf_counter() - start
    logits = np.empty_like(gathered) if gathered is not None else np.zeros((0, 0), dtype=np.float32)
    if gathered is not None:
        logits[order] = gathered
    return Prediction(logits, loss, runtime, len(order) / runtime if runtime else 0.0)


def longest_first(lengths) -> np.ndarray:
    """Row indices, longest row first (ties in row order): the order `predict` batches in."""
    return np.argsort(-np.asarray(lengths), kind="stable")


def keep_4bit_weights_trainable(model) -> None:
    """bitsandbytes repacks a 4-bit layer's CPU weights into an inference-only layout the first
    time it runs in eval mode on an input that needs no gradient; a backward pass through it
    then fails. Its `training` flag decides nothing else, so during an evaluation in the middle
    of training the 4-bit layers (not the adapters: their dropout must be off) stay in training
    mode. The Trainer sets the whole model back to training mode before the next step."""
    for layer in four_bit_layers(model):
        layer.training = True


def four_bit_layers(model) -> list:
    """The bitsandbytes 4-bit linear layers of `model` (not PEFT's adapters around them)."""
    import sys

    bnb = sys.modules.get("bitsandbytes")  # loaded if and only if the model has such layers
    if bnb is None:
        return []
    return [module for module in model.modules() if type(module) is bnb.nn.Linear4bit]


def _loss(logits, labels, task: str):
    """The task's plain loss of one batch, as a tensor on the device."""
    import torch.nn.functional as F

    if task == "multi_label":
        return F.binary_cross_entropy_with_logits(logits, labels.float())
    return F.cross_entropy(logits, labels.long())

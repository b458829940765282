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


def predict(model, dataset, collate, batch_size: int, task: str, progress=None) -> Prediction:
    """Logits for every row of a tokenised dataset, in row order, and the mean loss if it has labels.

    Rows are batched longest first so each batch pads little; the order is restored at the end.
    `progress`, if given, is called with the number of rows done after each batch.
    """
    import torch

    device = next(model.parameters()).device
    lengths = np.array([len(ids) for ids in dataset["input_ids"]])
    order = np.argsort(-lengths, kind="stable")
    model.eval()
    chunks, losses = [], []
    start = time.perf_counter()
    with torch.inference_mode():
        for first in range(0, len(order), batch_size):
            rows = [dataset[int(i)] for i in order[first : first + batch_size]]
            batch = {k: v.to(device) for k, v in collate(rows).items()}
            labels = batch.pop("labels", None)
            logits = model(**batch).logits.float()
            chunks.append(logits.cpu().numpy())
            if labels is not None:
                losses.append(_loss(logits, labels, task) * len(rows))
            if progress is not None:
                progress(len(rows))
    runtime = time.perf_counter() - start
    logits = np.empty((len(order), chunks[0].shape[1]), dtype=np.float32) if chunks else np.zeros((0, 0))
    if chunks:
        logits[order] = np.concatenate(chunks)
    loss = float(sum(losses) / len(order)) if losses else None
    return Prediction(logits, loss, runtime, len(order) / runtime if runtime else 0.0)


def _loss(logits, labels, task: str) -> float:
    import torch.nn.functional as F

    if task == "multi_label":
        return float(F.binary_cross_entropy_with_logits(logits, labels.float()))
    return float(F.cross_entropy(logits, labels.long()))

"""The classification head starts at the training labels' frequencies.

A fresh head's bias is 0: every label at probability 0.5 (multi-label) or every class equally
likely. Reaching the real base rates (a label on 10% of rows has log-odds -2.2) takes a bias
step of ~2, which Adam at an adapter's learning rate covers only after thousands of steps; until
then the fastest way down the loss is to move the backbone itself towards one constant output,
and with mean pooling on small data sets that is what happens (the scores stop depending on the
input). Starting the bias at the log-odds of the training frequencies removes that pull, as in
the usual "initialise the output bias to the prior" recipe. Heads without a bias (most decoders'
`score`) are left as they are.
"""

from __future__ import annotations

import numpy as np

CLASSIFICATION_HEADS = ["classifier", "score"]
"""The names transformers gives sequence-classification heads (encoders, decoders)."""


def prior_logits(labels: np.ndarray, task: str, num_labels: int) -> np.ndarray:
    """Log-odds of each label's training frequency (multi-label), or log class frequencies
    centred on 0 (single-label); add-half smoothing keeps absent labels finite."""
    labels = np.asarray(labels)
    if task == "multi_label":
        p = (labels.sum(axis=0) + 0.5) / (len(labels) + 1.0)
        return np.log(p / (1 - p))
    counts = np.bincount(labels.astype(np.int64), minlength=num_labels) + 0.5
    logs = np.log(counts / counts.sum())
    return logs - logs.mean()


def init_head_bias(model, logits: np.ndarray) -> bool:
    """Set the bias of the head's output layer (the last `classifier`/`score` linear layer with one
    output per label) to `logits`. False when the head has no such bias."""
    import torch

    outputs = [
        module
        for name, module in model.named_modules()
        if name.split(".")[0] in CLASSIFICATION_HEADS
        and isinstance(module, torch.nn.Linear)
        and module.out_features == len(logits)
    ]
    if not outputs or outputs[-1].bias is None:
        return False
    with torch.no_grad():
        outputs[-1].bias.copy_(torch.as_tensor(logits, dtype=outputs[-1].bias.dtype))
    return True

"""Is the model saying anything? Signs that its predictions do not depend on the input.

A model whose pooled representation never trained (a frozen pooler), or whose learning rate was far
off, outputs nearly the same scores for every row: its metrics are not zero by accident, they are
the metrics of a constant. `prediction_health` looks for that at every evaluation and at the end,
so the run's output, the TUI and the report can say so instead of "no sign of overfitting".
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLAT_SPREAD = 0.05
"""Mean over labels of the standard deviation across rows of each label's log-odds (multi-label)
or log-probability (otherwise) below this: flat scores. On the log scale, because what a score's
movement means depends on its size: one of 60 classes sits near 1/60 and can carry the decision
while moving by 0.004, and a rare label's 0.02 moves little in absolute terms. (At a probability
near 0.3, 0.05 on the log-odds is about 0.01 on the probability.)"""
EPSILON = 1e-7
"""Scores are clipped to [EPSILON, 1 - EPSILON] before the logarithm."""
CAUSES = (
    "likely causes: a learning rate far too low or too high, or a pooling layer the adapter leaves "
    "frozen (backbone.pooling chooses how the head reads the sequence; to train a BERT-style "
    'pooler, add "pooler" to adapter.modules_to_save)'
)


def prediction_health(
    scores: np.ndarray, predicted: np.ndarray, task: str, label_names: list[str]
) -> dict[str, Any]:
    """`spread` (`FLAT_SPREAD`'s mean standard deviation on the log scale), `never_predicted`
    labels, `constant` (every row got the same prediction), and `warnings` in words (empty when
    healthy)."""
    scores = np.asarray(scores, dtype=np.float64)
    predicted = np.asarray(predicted)
    rows = len(scores)
    health: dict[str, Any] = {"spread": None, "never_predicted": [], "constant": False, "warnings": []}
    if rows < 2:
        return health
    clipped = np.clip(scores, EPSILON, 1 - EPSILON)
    logs = np.log(clipped / (1 - clipped)) if task == "multi_label" else np.log(clipped)
    spread = float(logs.std(axis=0).mean())
    if task == "multi_label":
        never = [label_names[j] for j in np.flatnonzero(predicted.sum(axis=0) == 0)]
        constant = bool((predicted == predicted[0]).all())
    else:
        never = [name for j, name in enumerate(label_names) if not (predicted == j).any()]
        constant = bool((predicted == predicted[0]).all())
    health.update(spread=round(spread, 6), never_predicted=never, constant=constant)
    warnings = health["warnings"]
    if spread < FLAT_SPREAD:
        scale = "log-odds" if task == "multi_label" else "log-probabilities"
        warnings.append(
            f"the scores hardly depend on the input (their {scale} vary by {spread:.4f} on average "
            f"across {rows} rows); {CAUSES}"
        )
    elif constant:
        warnings.append(f"every one of the {rows} rows gets the same prediction; {CAUSES}")
    if never and len(never) * 2 >= len(label_names):
        shown = ", ".join(never[:8]) + (" ..." if len(never) > 8 else "")
        warnings.append(f"{len(never)} of {len(label_names)} labels are never predicted ({shown})")
    return health

"""Is the model saying anything? Signs that its predictions do not depend on the input.

A model whose pooled representation never trained (a frozen pooler), or whose learning rate was far
off, outputs nearly the same scores for every row: its metrics are not zero by accident, they are
the metrics of a constant. `prediction_health` looks for that at every evaluation and at the end,
so the run's output, the TUI and the report can say so instead of "no sign of overfitting".
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLAT_SPREAD = 0.01
"""Mean over labels of the scores' standard deviation across rows below this: flat scores."""
CAUSES = (
    "likely causes: a learning rate far too low or too high, or a pooling layer the adapter leaves "
    "frozen (backbone.pooling chooses how the head reads the sequence; to train a BERT-style "
    'pooler, add "pooler" to adapter.modules_to_save)'
)


def prediction_health(
    scores: np.ndarray, predicted: np.ndarray, task: str, label_names: list[str]
) -> dict[str, Any]:
    """`spread` (mean per-label score standard deviation across rows), `never_predicted` labels,
    `constant` (every row got the same prediction), and `warnings` in words (empty when healthy)."""
    scores = np.asarray(scores, dtype=np.float64)
    predicted = np.asarray(predicted)
    rows = len(scores)
    health: dict[str, Any] = {"spread": None, "never_predicted": [], "constant": False, "warnings": []}
    if rows < 2:
        return health
    spread = float(scores.std(axis=0).mean())
    if task == "multi_label":
        never = [label_names[j] for j in np.flatnonzero(predicted.sum(axis=0) == 0)]
        constant = bool((predicted == predicted[0]).all())
    else:
        never = [name for j, name in enumerate(label_names) if not (predicted == j).any()]
        constant = bool((predicted == predicted[0]).all())
    health.update(spread=round(spread, 6), never_predicted=never, constant=constant)
    warnings = health["warnings"]
    if spread < FLAT_SPREAD:
        warnings.append(
            f"the scores hardly depend on the input (mean spread {spread:.4f} across {rows} rows); {CAUSES}"
        )
    elif constant:
        warnings.append(f"every one of the {rows} rows gets the same prediction; {CAUSES}")
    if never and len(never) * 2 >= len(label_names):
        shown = ", ".join(never[:8]) + (" ..." if len(never) > 8 else "")
        warnings.append(f"{len(never)} of {len(label_names)} labels are never predicted ({shown})")
    return health

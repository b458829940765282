"""The corrected resampled t-test over the folds of a cross-validation (Nadeau and Bengio, 2003,
"Inference for the Generalization Error"; Bouckaert and Frank, 2004).

Two groups of folds cut the same data into the same K folds; on fold j each has a model trained on
the other folds, scored on fold j's rows, so their difference there is d_j. The K differences are
not independent (any two folds' models share most of their training rows), so the plain t-test's
variance s^2 / K is too small; the corrected test scales s^2 by 1/K + n_test / n_train, which holds
the spread between models trained on different data that a bootstrap of the rows (models fixed)
leaves out. Its p-value is two-sided, on K - 1 degrees of freedom.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def corrected_t(differences: Sequence[float], test_rows: float, train_rows: float) -> tuple[float, float]:
    """(t, two-sided p) of the mean of the per-fold `differences` being 0; `test_rows` and
    `train_rows`: a fold's scored rows and the rows its model trained on (their means)."""
    import numpy as np
    from scipy.stats import t as student

    d = np.asarray(differences, dtype=np.float64)
    k = len(d)
    if k < 2 or not np.isfinite(d).all():
        return math.nan, 1.0
    mean, variance = float(d.mean()), float(d.var(ddof=1))
    if np.ptp(d) == 0:  # every fold moved by exactly the same amount
        return (math.copysign(math.inf, mean), 0.0) if mean else (0.0, 1.0)
    t = mean / math.sqrt((1 / k + test_rows / train_rows) * variance)
    return t, float(2 * student.sf(abs(t), k - 1))

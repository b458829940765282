"""`peftspec plan`: peak training memory before any download, whether it fits a GPU, what would
make it fit; and the model-family table that `peftspec check` builds toy backbones from.

`estimate` builds the model on PyTorch's meta device (torch is imported inside the functions that
need it: importing this package imports no torch).
"""

from peftspec.plan.advice import HEADROOM, BudgetError, advise, parse_size
from peftspec.plan.fit import FitReport, fit_report, render_fit
from peftspec.plan.memory import MemoryEstimate, estimate

__all__ = [
    "HEADROOM",
    "BudgetError",
    "FitReport",
    "MemoryEstimate",
    "advise",
    "estimate",
    "fit_report",
    "parse_size",
    "render_fit",
]

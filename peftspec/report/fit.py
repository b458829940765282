"""What a run's own validation-loss curve says about fit: still falling, converged or overfitting,
with the step; for a group of runs (seeds, folds), how many of its runs say which."""

from __future__ import annotations

from dataclasses import dataclass

from peftspec.runs import Run
from peftspec.runs.groups import member


@dataclass
class Fit:
    kind: str
    """`falling`, `overfitting`, `converged`, `single` (one evaluation) or `uninformative`."""
    text: str
    """The verdict for the report, with its steps and losses."""


SUMMARY = {
    "falling": "validation loss still falling at the last evaluation (more training may help)",
    "overfitting": "overfitting (validation loss more than {rise:.0%} above its minimum by the end)",
    "converged": "converged (validation loss within {rise:.0%} of its minimum)",
    "single": "one validation evaluation (no curve to judge fit by)",
    "uninformative": "predictions that do not depend on the input",
}
"""How a group's line words each kind."""


def fit_verdict(run: Run, warnings: list[str]) -> str | None:
    """The run's verdict as the report words it (`fit_of`)."""
    fit = fit_of(run, warnings)
    return fit.text if fit else None


def group_fit(members: list[Run], fits: list[Fit | None]) -> str | None:
    """One line for a group: each verdict with how many of its runs gave it, and which (`validation
    loss still falling ... in 3 of 5 (fold 2, fold 3, fold 4); converged ... in 2 (fold 0, fold 1)`)."""
    kinds: dict[str, list[str]] = {}
    for run, fit in zip(members, fits):
        if fit is not None:
            kinds.setdefault(fit.kind, []).append(member(run) or run.name)
    parts = [
        f"{SUMMARY[kind].format(rise=RISE)} in {len(places)} of {len(members)} ({', '.join(places)})"
        for kind, places in sorted(kinds.items(), key=lambda item: -len(item[1]))
    ]
    return "; ".join(parts) or None


RISE = 0.05
"""How far (relative) the validation loss must climb above its minimum to be called overfitting."""


def fit_of(run: Run, warnings: list[str]) -> Fit | None:
    """What this run's own validation-loss curve says about fit: where it bottomed out, how far it
    rose after, and whether the kept checkpoint is the one at the bottom."""
    if any("depend on the input" in w or "same prediction" in w for w in warnings):
        return Fit(
            "uninformative",
            "its loss curves say little: the predictions do not depend on the input (see above)",
        )
    curve = [
        (e["step"], e["loss"])
        for e in run.stream.evals
        if isinstance(e.get("step"), int) and isinstance(e.get("loss"), int | float)
    ]
    train, val = run.final_train_loss, run.split_metrics("validation").get("loss")
    val = val if isinstance(val, int | float) else (curve[-1][1] if curve else None)
    gap = ""
    if isinstance(train, float) and val is not None:
        gap = f"; final training loss {train:.4f} against validation {val:.4f} (kept weights)"
    if len(curve) < 2:
        return Fit("single", f"one validation evaluation: no curve to judge fit by{gap}") if curve else None
    low_step, low = min(curve, key=lambda point: point[1])
    last_step, last = curve[-1]
    best = run.record.best
    kept = f" (the kept checkpoint is step {best.step})" if best and best.step is not None else ""
    if low_step == last_step:
        return Fit(
            "falling",
            f"validation loss still falling at the last evaluation (step {last_step}): "
            f"more training may help{gap}",
        )
    rise = (last - low) / max(abs(low), 1e-12)
    if rise > RISE:
        return Fit(
            "overfitting",
            f"validation loss lowest at step {low_step} ({low:.4f}) and {rise:.0%} higher by step "
            f"{last_step}: overfitting after step {low_step}{kept}{gap}",
        )
    return Fit(
        "converged",
        f"validation loss flat since step {low_step} (within {RISE:.0%} of its minimum {low:.4f}): "
        f"converged{kept}{gap}",
    )

"""A study as a table: each trial's state, values, metric and run; the best so far."""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATE = {
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}


def trial_rows(study) -> list[dict[str, Any]]:
    """One row per trial, in number order: number, state, value, values of the keys, run dir."""
    return [
        {
            "number": t.number,
            "state": STATE.get(t.state.name, t.state.name.lower()),
            "value": t.value if t.state.name == "COMPLETE" else None,
            "last_step": max(t.intermediate_values) if t.intermediate_values else None,
            "params": dict(t.params),
            "run_dir": t.user_attrs.get("run_dir"),
            "group": t.user_attrs.get("group"),
            "resumed": bool(t.user_attrs.get("resumed_by")),
            "steps_reported": len(t.intermediate_values),
        }
        for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    ]


def best_row(study) -> dict[str, Any] | None:
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return None
    best = study.best_trial
    return {
        "number": best.number,
        "value": best.value,
        "params": best.params,
        "run_dir": best.user_attrs.get("run_dir"),
        "group": best.user_attrs.get("group"),
    }


def print_study(study, console, title: str) -> None:
    from rich.table import Table
    from rich.text import Text

    rows = trial_rows(study)
    keys = list(dict.fromkeys(k for r in rows for k in r["params"]))
    metric = study.user_attrs.get("metric", "value")
    best = best_row(study)
    table = Table(title=title, title_justify="left")
    for column in ["trial", "state", metric, *keys, "run"]:
        table.add_column(column, justify="right" if column not in ("state", "run") else "left")
    for r in rows:
        style = "bold green" if best and r["number"] == best["number"] else ""
        table.add_row(
            Text(str(r["number"]), style=style),
            Text(state_text(r)),
            Text(f"{r['value']:.4f}" if r["value"] is not None else "-", style=style),
            *(Text(param_text(r["params"].get(k))) for k in keys),
            Text(run_text(r)),
        )
    table.caption = (
        f"{objective_text(study)}; best: trial {best['number']}" if best else "no trial completed yet"
    )
    table.caption_justify = "left"
    console.print(table)


def run_text(row: dict[str, Any]) -> str:
    """What names a trial's runs: its group's id (a cross-validated trial), else its run's folder."""
    if row.get("group"):
        return str(row["group"])
    return Path(row["run_dir"]).name if row["run_dir"] else "-"


TRIAL_KEYS = ("tracking.run_name=", "sweep.")
"""The `--set`s of a trial's run that its values do not need, beside its fold's: the name the sweep
gives the trial, and the sweep's own keys (`peftspec run` ignores them)."""


def retrain_command(run) -> str:
    """The `peftspec run` of a trial's values alone, from one of its runs: a cross-validated
    trial has a model per fold, and this command trains the one model that `export` and `serve`
    take (held out and validated as the spec says)."""
    import shlex

    from peftspec.runs.groups import group_sets

    sets = [s for s in group_sets(run) if not s.startswith(TRIAL_KEYS)]
    spec = run.record.spec_file or "SPEC"
    return " ".join(["peftspec run", shlex.quote(spec), *(f"--set {shlex.quote(s)}" for s in sets)])


def objective_text(study) -> str:
    """`f1_macro on validation (maximize)`, and how a cross-validated study scores a trial."""
    metric = study.user_attrs.get("metric", "value")
    folds = study.user_attrs.get("folds")
    over = f", the mean over {folds} folds of the training data" if folds else ""
    return f"{metric} on validation{over} ({study.direction.name.lower()})"


def state_text(row: dict[str, Any]) -> str:
    """`complete`, `pruned at step 12`, `failed`, ... and `(resumed)` for a trial taken over."""
    text = row["state"]
    if text == "pruned" and row["last_step"] is not None:
        text += f" at step {row['last_step']}"
    return text + (" (resumed)" if row["resumed"] else "")


def param_text(value) -> str:
    """A trial's parameter as the sweep shows it: floats to 4 significant digits."""
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)

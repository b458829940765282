"""A trial's values: each key of `[sweep.space]` suggested from its distribution, and the
`--set` overrides that make the trial's spec."""

from __future__ import annotations

import json
from typing import Any

from peftspec.spec.sweep import Distribution, SweepSpec


def suggest(trial, space: dict[str, Distribution]) -> dict[str, Any]:
    """The trial's value for every key (a trial resumed in another process gets the values it
    already drew: Optuna returns a parameter's stored value)."""
    values: dict[str, Any] = {}
    for key, d in space.items():
        if d.choice is not None:
            values[key] = trial.suggest_categorical(key, d.choice)
        elif d.integer is not None:
            values[key] = trial.suggest_int(key, *d.integer, step=int(d.step or 1), log=d.log)
        elif d.log_uniform is not None:
            values[key] = trial.suggest_float(key, *d.log_uniform, log=True)
        else:
            values[key] = trial.suggest_float(key, *d.uniform, step=d.step)
    return values


def overrides(values: dict[str, Any]) -> list[str]:
    """`KEY=VALUE` for `--set`, each value written as TOML (strings quoted)."""
    return [f"{key}={json.dumps(value)}" for key, value in values.items()]


def grid(sweep: SweepSpec) -> dict[str, list[Any]]:
    """The grid sampler's search space."""
    return {key: d.grid() or [] for key, d in sweep.space.items()}

"""A trial's values: each key of `[sweep.space]` suggested from its distribution, and the
`--set` overrides that make the trial's spec."""

from __future__ import annotations

from typing import Any

from peftspec.spec.render import value_to_toml
from peftspec.spec.sweep import Distribution, SweepSpec


def draw(trial, name: str, d: Distribution) -> Any:
    """One value of `d`, as parameter `name` of the trial (a trial resumed in another process gets
    the value it already drew: Optuna returns a parameter's stored value)."""
    if d.choice is not None:
        return trial.suggest_categorical(name, d.choice)
    if d.integer is not None:
        return trial.suggest_int(name, *d.integer, step=int(d.step or 1), log=d.log)
    if d.log_uniform is not None:
        return trial.suggest_float(name, *d.log_uniform, log=True)
    return trial.suggest_float(name, *d.uniform, step=d.step)


def suggest(trial, sweep: SweepSpec) -> tuple[dict[str, Any], list[str]]:
    """The trial's values (by parameter name) and the `--set` overrides that make its spec. With
    `[sweep.adapters.KIND]` tables, `adapter.kind` is drawn first and the drawn kind's table
    replaces `[adapter]`, its distributions drawn as `adapter.KEY[KIND]`."""
    values = {key: draw(trial, key, d) for key, d in sweep.space.items()}
    sets = [f"{key}={value_to_toml(value)}" for key, value in values.items()]
    tables = sweep.adapter_tables()
    if tables:
        kinds = list(tables)
        kind = trial.suggest_categorical("adapter.kind", kinds) if len(kinds) > 1 else kinds[0]
        values["adapter.kind"] = kind
        adapter = {}
        for key, value in tables[kind].items():
            if isinstance(value, Distribution):
                adapter[key] = values[f"adapter.{key}[{kind}]"] = draw(trial, f"adapter.{key}[{kind}]", value)
            else:
                adapter[key] = value
        sets.append(f"adapter={value_to_toml(adapter)}")
    return values, sets


def grid(sweep: SweepSpec) -> dict[str, list[Any]]:
    """The grid sampler's search space (adapter tables' keys under their parameter names)."""
    space = {key: d.grid() or [] for key, d in sweep.space.items()}
    tables = sweep.adapter_tables()
    if len(tables) > 1:
        space["adapter.kind"] = list(tables)
    for kind, table in tables.items():
        space.update(
            {f"adapter.{k}[{kind}]": v.grid() or [] for k, v in table.items() if isinstance(v, Distribution)}
        )
    return space

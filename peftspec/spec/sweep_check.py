"""A sweep's search space against the spec: every key a spec key, and the spec valid at both ends
of every range and with every choice (so no trial can fail to start on a bad value)."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from peftspec.spec.diagnostics import Diagnostic, KeyPath

NOT_SWEPT = {"sweep", "name", "description", "extends", "schema_version"}


@cache
def spec_keys() -> tuple[str, ...]:
    """Every dotted key a sweep may set: the spec's leaf keys, each adapter's and quantisation's
    keys included (a table of free keys, like `dataset.limit`, as one key)."""
    from peftspec.spec.base import _models_in
    from peftspec.spec.root import Spec

    out: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            if not prefix and name in NOT_SWEPT:
                continue
            key = f"{prefix}{name}"
            models = _models_in(info.annotation)
            if models:
                for sub in models:
                    walk(sub, key + ".")
            out.add(key)

    walk(Spec, "")
    return tuple(sorted(out))


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node[last] = value


def _dotted_synonym(key: str) -> str | None:
    """peftspec's dotted key for another tool's name, in the table it names
    (`trainer.lr` -> `trainer.learning_rate`) or, as lint answers it, in the one table that knows
    the name (`trainer.max_seq_length` -> `dataset.max_length`)."""
    from peftspec.spec.synonyms import peftspec_name

    table, _, leaf = key.rpartition(".")
    found = peftspec_name(table, leaf)
    return f"{found[0]}.{found[1].key}" if found is not None else None


def trial_problems(data: dict[str, Any], spec, index) -> list[Diagnostic]:
    """Errors, at each space key, for a bound or choice with which the spec does not validate."""
    from peftspec.spec.diagnostics import did_you_mean
    from peftspec.spec.root import Spec
    from peftspec.spec.translate import translate

    problems: list[Diagnostic] = []
    for key, distribution in spec.sweep.space.items():
        where: KeyPath = ("sweep", "space", key)
        if key not in spec_keys():
            problems.append(
                Diagnostic.at(
                    index.key(where),
                    where,
                    "error",
                    "unknown-key",
                    f"{key!r} is not a spec key (write dotted keys such as trainer.learning_rate)",
                    _dotted_synonym(key) or did_you_mean(key, spec_keys()),
                )
            )
            continue
        for value in distribution.extremes():
            trial = copy.deepcopy(data)
            trial.pop("sweep", None)
            _set(trial, key, value)
            try:
                Spec.model_validate(trial)
            except ValidationError as exc:
                found = translate(exc, trial, index, Spec)
                reasons = "; ".join(f"{d.path}: {d.message}" for d in found[:3])
                problems.append(
                    Diagnostic.at(
                        index.value(where),
                        where,
                        "error",
                        "sweep-out-of-range",
                        f"a trial with {key} = {value!r} would not validate: {reasons}",
                    )
                )
                break  # one problem per key
    problems += _adapter_problems(data, spec, index)
    return problems


def _adapter_problems(data: dict[str, Any], spec, index) -> list[Diagnostic]:
    """Each `[sweep.adapters.KIND]` table, with every distribution at each of its extremes (the
    others at their first), must make a valid `[adapter]`."""
    from peftspec.spec.root import Spec
    from peftspec.spec.sweep import Distribution
    from peftspec.spec.translate import translate

    problems: list[Diagnostic] = []
    for kind, table in spec.sweep.adapter_tables().items():
        first = {k: v.extremes()[0] if isinstance(v, Distribution) else v for k, v in table.items()}
        variants = [(None, first)] + [
            (key, {**first, key: value})
            for key, d in table.items()
            if isinstance(d, Distribution)
            for value in d.extremes()[1:]
        ]
        for key, adapter in variants:
            trial = copy.deepcopy(data)
            trial.pop("sweep", None)
            trial["adapter"] = adapter
            try:
                Spec.model_validate(trial)
            except ValidationError as exc:
                found = translate(exc, trial, index, Spec)
                reasons = "; ".join(f"{d.path}: {d.message}" for d in found[:3])
                where: KeyPath = ("sweep", "adapters", kind, *((key,) if key else ()))
                drawn = f" with {key} = {adapter[key]!r}" if key else ""
                problems.append(
                    Diagnostic.at(
                        index.key(where),
                        where,
                        "error",
                        "sweep-out-of-range",
                        f"a trial drawing the {kind} table{drawn} would not validate: {reasons}",
                    )
                )
                break
    return problems

"""A spec as dotted keys (`adapter.r`), the form in which specs are told apart: what `--resume`
refuses to change, what sets compared runs apart."""

from __future__ import annotations

from typing import Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted key: value} for every leaf of nested tables; lists are leaves."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}

"""Write a spec (or any nested dict of TOML values) as TOML text, optionally with comments."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from peftspec.spec.root import Spec

CommentFor = Callable[[tuple[str, ...]], str | None]


def render_spec(spec: Spec, header: str | None = None) -> str:
    """The resolved spec as TOML; keys that are unset (None), and keys its other settings make it
    ignore (`peftspec.spec.ignored`), are left out."""
    from peftspec.spec.ignored import without_ignored

    data = without_ignored(spec.model_dump(mode="json", exclude_none=True, exclude={"extends"}), spec)
    text = to_toml(data)
    return (f"# {header}\n\n" if header else "") + text


def to_toml(data: dict[str, Any], comment_for: CommentFor | None = None) -> str:
    lines: list[str] = []
    _table(data, (), lines, comment_for)
    return "\n".join(lines).strip() + "\n"


def _table(data: dict, path: tuple[str, ...], lines: list[str], comment_for: CommentFor | None) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines.append("")
        comment = comment_for(path) if comment_for else None
        if comment:
            lines += [f"# {line}".rstrip() for line in comment.splitlines()]
        lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    for key, value in scalars.items():
        comment = comment_for((*path, key)) if comment_for else None
        if comment:
            lines += [f"# {line}".rstrip() for line in comment.splitlines()]
        lines.append(f"{_key(key)} = {value_to_toml(value)}")
    for key, value in tables.items():
        _table(value, (*path, key), lines, comment_for)


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else json.dumps(key, ensure_ascii=False)


def value_to_toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(value_to_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {value_to_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")

"""Paths written in a spec resolve relative to the file that wrote them, not the working directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from peftspec.spec.diagnostics import KeyPath


@dataclass(frozen=True)
class SpecPath:
    """Field metadata: this string is a filesystem path, relative to the spec file that sets it.

    `maybe_hub` marks values that may also be a hub id (`google/gemma-2b`): those are
    treated as paths only when they look like one (`./`, `../`, `/`, `~`) or exist.
    """

    maybe_hub: bool = False


@dataclass(frozen=True)
class OneOrMany:
    """Field metadata: a single value is accepted where a list is expected (documentation only)."""


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""Names that become file or folder names: letters, digits, `.`, `_` and `-`, no path separators."""

PACKAGE_PREFIX = "package:"


def looks_like_path(value: str) -> bool:
    return value.startswith(("./", "../", "/", "~", ".\\", "..\\")) or value in (".", "..")


def nearby(path: str) -> str | None:
    """The name of the entry of `path`'s folder closest to the missing `path`'s name
    (`data/trian.csv` -> `train.csv`); None when nothing there is close."""
    from peftspec.spec.diagnostics import did_you_mean

    folder, name = os.path.split(path)
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return None
    return did_you_mean(name, [e for e in entries if not e.startswith(".")])


def resolve(value: str, base_dir: str, maybe_hub: bool) -> str:
    """`value` as written in a file in `base_dir`, made absolute when it is a local path."""
    if value.startswith(PACKAGE_PREFIX) or "://" in value:
        return value
    expanded = os.path.expanduser(value)
    candidate = os.path.normpath(os.path.join(base_dir, expanded))
    if maybe_hub and not looks_like_path(value) and not os.path.exists(candidate):
        return value
    return candidate


def path_fields(model: BaseModel, prefix: KeyPath = ()) -> list[tuple[KeyPath, SpecPath]]:
    """Every set path-typed value in `model`, as (key path, marker)."""
    found: list[tuple[KeyPath, SpecPath]] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        marker = _marker(info.annotation, info.metadata)
        found += _walk(value, (*prefix, name), marker)
    return found


def _walk(value: Any, path: KeyPath, marker: SpecPath | None) -> list[tuple[KeyPath, SpecPath]]:
    if isinstance(value, BaseModel):
        return path_fields(value, path)
    if isinstance(value, list):
        return [hit for i, item in enumerate(value) for hit in _walk(item, (*path, i), marker)]
    if isinstance(value, str) and marker is not None:
        return [(path, marker)]
    return []


def _marker(annotation: Any, metadata: list[Any]) -> SpecPath | None:
    for item in metadata:
        if isinstance(item, SpecPath):
            return item
    for item in getattr(annotation, "__metadata__", ()):
        if isinstance(item, SpecPath):
            return item
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _marker(arg, [])
        if found is not None:
            return found
    return None


def set_at(model: BaseModel, path: KeyPath, value: str) -> None:
    """Replace the value at `path` inside a validated model (used to store resolved paths)."""
    *parents, last = path
    node: Any = model
    for part in parents:
        node = node[part] if isinstance(part, int) else getattr(node, part)
    if isinstance(last, int):
        node[last] = value
    else:
        object.__setattr__(node, last, value)

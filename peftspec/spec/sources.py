"""Read a spec's TOML: follow `extends`, apply `--set` overrides, remember where every value came from."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from peftspec.spec.diagnostics import Diagnostic, KeyPath, Location, SpecError, dotted
from peftspec.spec.toml_positions import SourcePositions, scan_positions


@lru_cache(maxsize=1)
def union_tables() -> dict[KeyPath, tuple[str, str]]:
    """Tables that choose their schema by a key (and that key's default), read off the `Spec`
    model's tagged unions. When a spec changes that key from its base, the base's table is replaced
    rather than merged: LoRA's `r` means nothing to IA3."""
    from peftspec.spec.base import union_keys
    from peftspec.spec.root import Spec

    return {path: (u.key, u.default) for path, u in union_keys(Spec).items()}


_TOML_PLACE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_END = re.compile(r"\s*\(at end of document\)$")


@dataclass
class SourceIndex:
    """Where each key and value of the merged spec was written (file, line, column)."""

    root_file: str
    keys: dict[KeyPath, Location] = field(default_factory=dict)
    values: dict[KeyPath, Location] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def key(self, path: KeyPath) -> Location:
        return _nearest(self.keys, path) or Location(self.root_file)

    def value(self, path: KeyPath) -> Location:
        return _nearest(self.values, path) or _nearest(self.keys, path) or Location(self.root_file)

    def file_of(self, path: KeyPath) -> str:
        return self.key(path).file

    def drop_under(self, path: KeyPath) -> None:
        for table in (self.keys, self.values):
            for p in [p for p in table if p[: len(path)] == path and len(p) > len(path)]:
                del table[p]


def _nearest(table: dict[KeyPath, Location], path: KeyPath) -> Location | None:
    for n in range(len(path), 0, -1):
        if path[:n] in table:
            return table[path[:n]]
    return None


@dataclass
class RawSpec:
    """The merged, unvalidated spec data and where each part of it came from."""

    data: dict[str, Any]
    index: SourceIndex


def read_raw(path: str, overrides: Sequence[str] = ()) -> RawSpec:
    """Read `path` and its `extends` chain, then apply `overrides`. Raises SpecError."""
    raw = _read_chain(path, stack=())
    problems = [p for text in overrides if (p := apply_override(raw, text)) is not None]
    if problems:
        raise SpecError(problems)
    return raw


def _read_chain(path: str, stack: tuple[str, ...]) -> RawSpec:
    data, positions = _parse_file(path)
    index = SourceIndex(path, files=[path])
    for table, target in ((positions.keys, index.keys), (positions.values, index.values)):
        target.update({p: Location(path, *pos) for p, pos in table.items()})
    base_ref = data.pop("extends", None)
    if base_ref is None:
        return RawSpec(data, index)
    where = index.value(("extends",))
    if not isinstance(base_ref, str):
        raise SpecError(
            [
                _diag(
                    where,
                    "extends",
                    "wrong-type",
                    f"`extends` must be a path string, got {type(base_ref).__name__}",
                )
            ]
        )
    base_path = os.path.normpath(os.path.join(os.path.dirname(path), base_ref))
    chain = (*stack, os.path.abspath(path))
    if os.path.abspath(base_path) in chain:
        loop = " -> ".join([*(os.path.relpath(p) for p in chain), os.path.relpath(base_path)])
        message = f"`extends` loops: {loop}; remove `extends` from one file in the loop"
        raise SpecError([_diag(where, "extends", "extends-cycle", message)])
    if os.path.splitext(base_path)[1].lower() != ".toml":
        # refuse before reading: a diagnostic would quote the file's lines (a `.env`, a key file)
        message = f"`extends` must name a TOML spec (a .toml file), got {base_ref!r}"
        raise SpecError([_diag(where, "extends", "extends-not-a-spec", message)])
    if not os.path.isfile(base_path):
        raise SpecError(
            [
                _diag(
                    where,
                    "extends",
                    "extends-not-found",
                    f"base spec {base_ref!r} not found (looked for {base_path})",
                )
            ]
        )
    base = _read_chain(base_path, chain)
    return RawSpec(_merge(base, data, index), base.index)


def _merge(base: RawSpec, child: dict[str, Any], child_index: SourceIndex) -> dict[str, Any]:
    """Overlay `child` on `base` table by table; `base.index` becomes the merged index."""
    merged = _deep_merge(base.data, child, (), base.index)
    base.index.keys.update(child_index.keys)
    base.index.values.update(child_index.values)
    base.index.root_file = child_index.root_file
    base.index.files = [*child_index.files, *base.index.files]
    return merged


def _deep_merge(base: dict, child: dict, path: KeyPath, index: SourceIndex) -> dict:
    out = dict(base)
    for key, value in child.items():
        here = (*path, key)
        mergeable = isinstance(value, dict) and isinstance(out.get(key), dict)
        if mergeable and not _switches(here, out[key], value):
            out[key] = _deep_merge(out[key], value, here, index)
        else:
            index.drop_under(here)
            out[key] = value
    return out


def _switches(path: KeyPath, base: dict, child: dict) -> bool:
    """Whether `child` picks another variant of a union table than `base` does."""
    tables = union_tables()
    if path not in tables:
        return False
    key, default = tables[path]
    return key in child and child[key] != base.get(key, default)


@lru_cache(maxsize=256)
def _parse_cached(path: str, mtime_ns: int, size: int) -> tuple[dict, SourcePositions]:
    if size > MAX_SPEC_BYTES:
        message = f"spec files are limited to {MAX_SPEC_BYTES // 1024} KiB; this one has {size:,} bytes"
        raise SpecError([Diagnostic(path, None, None, "", "error", "too-large", message)])
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8-sig")  # a UTF-8 byte-order mark is fine
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            [Diagnostic(path, line, None, "", "error", "encoding", "spec files must be UTF-8: " + exc.reason)]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError([_syntax_diagnostic(path, text, str(exc))]) from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_DEPTH:
        message = f"tables and arrays nest more than {MAX_DEPTH} deep; a spec needs a handful of levels"
        raise SpecError([Diagnostic(path, None, None, "", "error", "too-deep", message)])
    return data, scan_positions(text)


MAX_SPEC_BYTES = 1024 * 1024
MAX_DEPTH = 16


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _parse_file(path: str) -> tuple[dict, SourcePositions]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SpecError(
            [Diagnostic(path, None, None, "", "error", "file-not-found", f"cannot read spec: {exc.strerror}")]
        ) from None
    data, positions = _parse_cached(path, st.st_mtime_ns, st.st_size)
    return _copy(data), positions


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _syntax_diagnostic(path: str, text: str, message: str) -> Diagnostic:
    line = column = None
    if match := _TOML_PLACE.search(message):
        line, column = int(match[1]), int(match[2])
        message = message[: match.start()]
    elif match := _TOML_END.search(message):
        line = text.count("\n") + 1
        message = message[: match.start()] + " (at end of file)"
    return Diagnostic(path, line, column, "", "error", "toml-syntax", f"TOML syntax error: {message}")


def _diag(where: Location, path: str, code: str, message: str, suggestion: str | None = None) -> Diagnostic:
    return Diagnostic.at(where, path, "error", code, message, suggestion)


# -- overrides -------------------------------------------------------------------------------


def parse_override(text: str) -> tuple[KeyPath, Any] | None:
    """`trainer.learning_rate=2e-4` -> (("trainer", "learning_rate"), 2e-4); None if malformed.

    The value is read as a TOML value (numbers, booleans, arrays, quoted strings); anything that
    is not valid TOML is taken as a plain string, so `backbone.model=google/gemma-2b` works.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    parts = tuple(key.split("."))
    if not sep or not key or any(not p.strip() for p in parts):
        return None
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return tuple(p.strip() for p in parts), parsed


def apply_override(raw: RawSpec, text: str) -> Diagnostic | None:
    origin = Location(f"--set {text}")
    parsed = parse_override(text)
    if parsed is None:
        return Diagnostic(
            origin.file,
            None,
            None,
            "",
            "error",
            "bad-override",
            "an override is KEY=VALUE with a dotted key, e.g. --set trainer.learning_rate=2e-4",
        )
    path, value = parsed
    if path == ("extends",):
        message = "`extends` cannot be set with --set (it is resolved before overrides); write it in the spec"
        return Diagnostic(origin.file, None, None, "extends", "error", "bad-override", message)
    node = raw.data
    for n, part in enumerate(path[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = dotted(path[: n + 1])
            return Diagnostic(
                origin.file,
                None,
                None,
                dotted(path),
                "error",
                "bad-override",
                f"cannot set {dotted(path)}: {where} is a value, not a table",
            )
        node = child
    node[path[-1]] = value
    raw.index.drop_under(path)
    raw.index.keys[path] = origin
    raw.index.values[path] = origin
    return None

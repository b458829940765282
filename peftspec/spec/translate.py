"""Turn Pydantic's validation errors into located, human diagnostics with suggestions."""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from peftspec.spec.base import RuleViolations
from peftspec.spec.diagnostics import Diagnostic, KeyPath, Location, did_you_mean, dotted
from peftspec.spec.sources import SourceIndex, union_tables
from peftspec.spec.synonyms import peftspec_name, value_known_as

_TOML_TYPES = {str: "string", bool: "boolean", int: "integer", float: "float", list: "array", dict: "table"}
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
    "list_type": "an array",
    "model_type": "a table",
    "dict_type": "a table",
    "model_attributes_type": "a table",
}
_RANGE = {
    "greater_than": "> {gt}",
    "greater_than_equal": ">= {ge}",
    "less_than": "< {lt}",
    "less_than_equal": "<= {le}",
}


def translate(
    exc: ValidationError, data: dict, index: SourceIndex, root: type[BaseModel]
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple] = set()
    for err in _merge_alternatives(exc.errors(include_url=False), data):
        for diag in _one(err, data, index, root):
            key = (diag.path, diag.code, diag.message)
            if key not in seen:
                seen.add(key)
                out.append(diag)
    return out


def _merge_alternatives(errors: list[dict], data: dict) -> list[dict]:
    """One error for a value that fits none of a union's members (`class_weights = "balance"`:
    not "none" or "balanced", and not a table), instead of one per member that contradict each
    other: the words allowed, then the other types, in one message."""
    groups: dict[KeyPath, list[dict]] = {}
    for err in errors:
        if err["type"] == "literal_error" or err["type"] in _EXPECTED:
            groups.setdefault(data_path(err["loc"], data), []).append(err)
    several = [group for group in groups.values() if len(group) > 1]
    merged = {id(group[0]): _merged(group) for group in several}
    dropped = {id(err) for group in several for err in group[1:]}
    return [merged.get(id(err), err) for err in errors if id(err) not in dropped]


def _merged(group: list[dict]) -> dict:
    words = [
        w
        for e in group
        if e["type"] == "literal_error"
        for w in re.findall(r"'([^']*)'", e["ctx"]["expected"])
    ]
    types = list(dict.fromkeys(_EXPECTED[e["type"]] for e in group if e["type"] in _EXPECTED))
    if words:
        text = ", ".join(words) + "".join(f", or {t}" for t in types)
        return {**group[0], "type": "literal_error", "ctx": {"words": words, "text": text}}
    return {**group[0], "type": "alternatives", "ctx": {"text": ", ".join(types[:-1]) + f" or {types[-1]}"}}


def _one(err: dict, data: dict, index: SourceIndex, root: type[BaseModel]) -> list[Diagnostic]:
    kind = err["type"]
    path = data_path(err["loc"], data, keep_absent_last=kind in ("missing", "extra_forbidden"))
    ctx = err.get("ctx") or {}
    if kind == "value_error" and isinstance(ctx.get("error"), RuleViolations):
        return [
            _located(index.value((*path, *v.path)), (*path, *v.path), v.code, v.message, v.suggestion)
            for v in ctx["error"].violations
        ]
    if kind == "extra_forbidden":
        return [_unknown_key(path, data, index, root)]
    if kind == "missing":
        where = index.key(path[:-1]) if path[:-1] else Location(index.root_file)
        return [
            _located(where, path, "missing-key", f"missing required key {path[-1]!r}" + _in_table(path[:-1]))
        ]
    where = index.value(path)
    value = err.get("input")
    if kind == "literal_error":
        choices = ctx.get("words") or re.findall(r"'([^']*)'", ctx.get("expected", ""))
        expected = ctx.get("text") or ", ".join(choices)
        return [
            _located(
                where,
                path,
                "invalid-value",
                f"{value!r} is not allowed; expected one of: {expected}",
                _suggest(path, value, choices),
            )
        ]
    if kind == "alternatives":
        return [_located(where, path, "wrong-type", f"expected {ctx['text']}, got {_describe(value)}")]
    if kind == "unknown_word":  # a string where a word or another type goes (spec.base.known_words)
        return [
            _located(
                where,
                path,
                "invalid-value",
                f"{value!r} is not allowed; {err['msg']}",
                did_you_mean(str(value), list(ctx.get("choices", []))),
            )
        ]
    if kind == "union_tag_invalid":
        choices = re.findall(r"'([^']*)'", ctx.get("expected_tags", ""))
        tag_path = (*path, union_tables().get(path, ("kind",))[0])
        return [
            _located(
                index.value(tag_path),
                tag_path,
                "invalid-value",
                f"unknown {dotted(tag_path[-2:])} {ctx.get('tag')!r}; expected one of: {', '.join(choices)}",
                _suggest(tag_path, ctx.get("tag"), choices),
            )
        ]
    if kind in _EXPECTED:
        return [_located(where, path, "wrong-type", f"expected {_EXPECTED[kind]}, got {_describe(value)}")]
    if kind in _RANGE:
        bound = _RANGE[kind].format(**ctx)
        return [_located(where, path, "out-of-range", f"must be {bound}, got {value!r}")]
    if kind == "string_pattern_mismatch" and path in (("name",), ("tracking", "run_name")):
        return [
            _located(
                where,
                path,
                "invalid-value",
                f"{value!r} is not a valid name: use letters, digits, '.', '_' and '-' "
                "(it names the run directory)",
            )
        ]
    message = err["msg"].removeprefix("Value error, ")
    return [_located(where, path, "invalid-value", f"{message}, got {_describe(value)}")]


def _suggest(path: KeyPath, value: object, choices: list[str]) -> str | None:
    """The value another tool's name stands for (`adamw` -> `adamw_torch_fused`), else the nearest
    spelling."""
    known = value_known_as(str(path[-1]), value) if path else None
    return known if known in choices else did_you_mean(str(value), choices)


def data_path(loc: tuple, data: Any, keep_absent_last: bool = False) -> KeyPath:
    """The key path of an error in the user's data, without Pydantic's union-tag segments.

    A segment absent from the data is a union tag, except the last one of a missing or
    unknown key (`keep_absent_last`)."""
    node = data
    out: list[str | int] = []
    for n, part in enumerate(loc):
        last = n == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str):
            if part in node:
                out.append(part)
                node = node[part]
            elif last and keep_absent_last:
                out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
    return tuple(out)


def _unknown_key(path: KeyPath, data: dict, index: SourceIndex, root: type[BaseModel]) -> Diagnostic:
    key = str(path[-1])
    message = f"unknown key {key!r}" + _in_table(path[:-1])
    table = ".".join(p for p in path[:-1] if isinstance(p, str))
    # another tool's name for a key of this table, or (when no table has a key of that very name) of
    # the one table that knows it
    real_elsewhere = find_field_elsewhere(root, key) is not None
    there, known = peftspec_name(table, key, elsewhere=not real_elsewhere) or (table, None)
    if known is not None:  # another tool's name for a key of this table (or of the one it belongs in)
        said = f"writes it {known.written}" if known.written else f"calls it {known.key!r}"
        where = f", in [{there}]" if there != table else ""
        suggestion = known.key if there == table else f"{there}.{known.key}"
        return _located(
            index.key(path), path, "unknown-key", f"{message}; peftspec {said}{where}", suggestion
        )
    model = model_at(root, path[:-1], data)
    fields = list(model.model_fields) if model else []
    suggestion = did_you_mean(key, fields)
    elsewhere = find_field_elsewhere(root, key)
    if elsewhere is not None and tuple(elsewhere.split(".")[:-1]) == tuple(path[:-1]):
        # a key of another kind of this very table: say so, never "did you mean" the key itself
        message += f"; {key!r} is a key of other kinds of [{dotted(path[:-1])}], not of this one"
        elsewhere = None
    elif elsewhere is not None:
        suggestion = None  # the exact key of another table beats a near miss here
    if suggestion is None and elsewhere:
        suggestion = elsewhere
        message += f"; {key!r} belongs in {dotted(elsewhere.split('.')[:-1]) or 'the top level'}"
    if suggestion is None and fields:
        message += f"; allowed keys: {', '.join(fields)}"
    return _located(index.key(path), path, "unknown-key", message, suggestion)


def model_at(root: type[BaseModel], path: KeyPath, data: Any) -> type[BaseModel] | None:
    """The spec model class that validates the table at `path` (choosing union members by data)."""
    model: type[BaseModel] | None = root
    node = data
    for n, part in enumerate(path):
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        node = node.get(part) if isinstance(node, dict) else None
        tag = union_tables().get(tuple(path[: n + 1]))
        model = _pick(_models_in(model.model_fields[part].annotation), node, tag)
    return model


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _pick(
    models: list[type[BaseModel]], node: Any, tag: tuple[str, str] | None = None
) -> type[BaseModel] | None:
    """The member of a union that `node` selects: by its tag key (`kind`, `method`, `format`)."""
    if len(models) <= 1:
        return models[0] if models else None
    for model in models:
        for name, info in model.model_fields.items():
            if tag is not None and name != tag[0]:
                continue
            if typing.get_origin(info.annotation) is typing.Literal:
                value = node.get(name, info.default) if isinstance(node, dict) else info.default
                if value in typing.get_args(info.annotation):
                    return model
    return None


def find_field_elsewhere(root: type[BaseModel], key: str, prefix: str = "") -> str | None:
    """The dotted place of a field called `key` in some other section, if exactly one exists."""
    hits = _find(root, key, prefix)
    return hits[0] if len(set(hits)) == 1 else None


def _find(model: type[BaseModel], key: str, prefix: str) -> list[str]:
    hits = []
    for name, info in model.model_fields.items():
        here = f"{prefix}{name}"
        if name == key and prefix:
            hits.append(here)
        for sub in _models_in(info.annotation):
            hits += _find(sub, key, here + ".")
    return hits


def _in_table(path: KeyPath) -> str:
    return f" in [{dotted(path)}]" if path else " at the top level"


def _describe(value: Any) -> str:
    kind = _TOML_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, dict):
        return "a table"
    shown = repr(value) if not isinstance(value, bool) else str(value).lower()
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{kind} {shown}"


def _located(
    where: Location, path: KeyPath, code: str, message: str, suggestion: str | None = None
) -> Diagnostic:
    return Diagnostic.at(where, path, "error", code, message, suggestion)

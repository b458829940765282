"""The spec reference (Markdown) and JSON Schema, generated from the models: never written twice."""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import annotated_types as at
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from peftspec.metrics.registry import DEFAULT_METRICS, LOSS, METRICS
from peftspec.spec.paths import OneOrMany, SpecPath
from peftspec.spec.render import value_to_toml
from peftspec.spec.root import Spec
from peftspec.spec.sources import union_tables

SCHEMA_ID = "https://peftspec.dev/schema/spec-v1.json"


def json_schema() -> dict[str, Any]:
    """The spec's JSON Schema. A spec that `extends` a base is validated as a partial spec: the same
    keys, types and ranges, with nothing required (its base provides the rest)."""
    full = Spec.model_json_schema()
    defs = full.pop("$defs", {})
    partial_defs = {f"{name}{PARTIAL}": _partial(d) for name, d in defs.items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": full.get("title"),
        "description": full.get("description"),
        "type": "object",
        # the key names, for every spec; their values are checked by `then` (a child) or `else`
        "properties": {
            name: {"description": p.get("description", "")} for name, p in full["properties"].items()
        },
        "additionalProperties": False,
        "$defs": {**defs, **partial_defs},
        "if": {"required": ["extends"]},
        "then": _partial(full),
        "else": full,
    }


PARTIAL = "Partial"


def _partial(schema: Any) -> Any:
    """`schema` with nothing required, references to partial definitions, and `anyOf` for `oneOf`
    (a table that leaves out its `kind` may fit several kinds until the base says which)."""
    if isinstance(schema, list):
        return [_partial(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "required":
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = value + PARTIAL
        elif key == "oneOf":
            out["anyOf"] = _partial(value)
        else:
            out[key] = _partial(value)
    return out


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


Section = tuple[tuple[str, ...], type[BaseModel], bool]


def sections(model: type[BaseModel], path: tuple[str, ...] = (), variant: bool = False) -> Iterator[Section]:
    """Every table of the spec, depth first, as (key path, model, is a union member)."""
    yield path, model, variant
    for name, info in model.model_fields.items():
        subs = _models(info.annotation)
        for sub in subs:
            yield from sections(sub, (*path, name), len(subs) > 1)


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base = type_name(args[0])
        if any(isinstance(m, SpecPath) for m in args[1:]):
            base = base.replace("string", "path")
        if any(isinstance(m, OneOrMany) for m in args[1:]):
            base = f"{type_name(typing.get_args(args[0])[0])} \\| {base}"
        return base + _constraints(args[1:])
    if origin is typing.Literal:
        return " \\| ".join(value_to_toml(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(dict.fromkeys(names))
    if origin is list:
        return f"array of {type_name(args[0])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return {str: "string", int: "integer", float: "float", bool: "boolean"}.get(annotation, str(annotation))


def _constraints(metadata: tuple) -> str:
    marks = []
    for m in metadata:
        for cls, symbol, attr in (
            (at.Ge, "≥", "ge"),
            (at.Gt, ">", "gt"),
            (at.Le, "≤", "le"),
            (at.Lt, "<", "lt"),
        ):
            if isinstance(m, cls):
                marks.append(f"{symbol} {getattr(m, attr)}")
        if isinstance(m, at.MinLen) and m.min_length:
            marks.append(f"at least {m.min_length}")
        for sub in getattr(m, "metadata", []):
            marks += [_constraints((sub,)).strip(" ()")]
    marks = [m for m in marks if m]
    return f" ({', '.join(marks)})" if marks else ""


def field_type(info: Any) -> str:
    return type_name(info.annotation) + _constraints(tuple(info.metadata))


def field_default(info: Any) -> str:
    if info.default_factory is not None:
        value = info.default_factory()
        return "(table)" if isinstance(value, BaseModel) else f"`{value_to_toml(value)}`"
    if info.default is PydanticUndefined:
        return "**required**"
    if info.default is None:
        return "unset"
    return f"`{value_to_toml(info.default)}`"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _heading(path: tuple[str, ...], model: type[BaseModel], variant: bool) -> str:
    if not path:
        return "Top level"
    if not variant:
        return f"[{'.'.join(path)}]"
    key = union_tables()[path][0]
    info = model.model_fields[key]
    return f'[{".".join(path)}] ({key} = "{typing.get_args(info.annotation)[0]}")'


def reference_markdown() -> str:
    out = [
        "# Spec reference",
        "",
        "<!-- Generated by `peftspec schema --format markdown`; do not edit by hand. -->",
        "",
        "Every key a spec may hold, its type, its default and what it does. Unknown keys are errors.",
        "Keys left unset take the default shown; `peftspec render SPEC` prints a spec with every",
        "default filled in. Relative paths are relative to the spec file that writes them.",
        "",
    ]
    documented: dict[type[BaseModel], str] = {}
    for path, model, variant in sections(Spec):
        heading = _heading(path, model, variant)
        out += [f"## {heading}", "", _one_line(inspect.getdoc(model)), ""]
        if model in documented:
            out += [f"Same keys as {documented[model]}.", ""]
            continue
        documented[model] = heading
        out += ["| key | type | default | description |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            out.append(
                f"| `{name}` | {field_type(info)} | {field_default(info)} | {_one_line(info.description)} |"
            )
        out.append("")
    out += _metric_table()
    out += _learning_rate_table()
    return "\n".join(out)


def _learning_rate_table() -> list[str]:
    from peftspec.plan.learning_rate import SIZES, TABLE

    bounds = [f"under {b / 1e9:g}B" if b < float("inf") else "larger" for _, b in SIZES]
    return [
        "## Learning-rate defaults",
        "",
        "The peak learning rate a spec gets when `trainer.learning_rate` is unset, by adapter kind and "
        "backbone size (parameters, read from the backbone's config). Lint warns about a rate more than "
        "5x away from it.",
        "",
        "| kind | " + " | ".join(bounds) + " |",
        "|---|" + "---:|" * len(bounds),
        *[f"| `{kind}` | " + " | ".join(f"{v:g}" for v in row) + " |" for kind, row in TABLE.items()],
        "",
    ]


def _metric_table() -> list[str]:
    out = [
        "## Metrics",
        "",
        "Names accepted in `metrics.names` and `trainer.best_metric` "
        f"(`{LOSS}`, the validation loss, is also a valid `best_metric`).",
        "",
        "| name | tasks | better | default for | thresholds tuned | description |",
        "|---|---|---|---|---|---|",
    ]
    tuning = {"per_label": "per label (each for its F1)", "joint": "jointly", "none": "-"}
    for name, info in METRICS.items():
        defaults = ", ".join(t for t, names in DEFAULT_METRICS.items() if name in names)
        better = "higher" if info.higher_is_better else "lower"
        tuned = tuning[info.thresholds] if "multi_label" in info.tasks else "-"
        out.append(
            f"| `{name}` | {', '.join(sorted(info.tasks))} | {better if info.scalar else '-'} "
            f"| {defaults} | {tuned} | {info.description} |"
        )
    return [*out, ""]


def write_docs(folder: str = "docs") -> list[str]:
    """Regenerate the reference and the JSON Schema under `folder`; returns the files written."""
    import os

    written = []
    for name, text in (("spec-reference.md", reference_markdown()), ("spec.schema.json", json_schema_text())):
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    for path in write_docs(*sys.argv[1:2]):
        print(f"wrote {path}")

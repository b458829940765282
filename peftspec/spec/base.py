"""The base of every spec section: strict, self-documenting, with located rule errors."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag
from pydantic_core import PydanticCustomError

from peftspec.spec.diagnostics import KeyPath


def tag_of(key: str, default: str) -> Callable[[object], str]:
    """A union discriminator: the value of `key` in a table (or on a model), `default` when absent."""

    def pick(value: object) -> str:
        if isinstance(value, dict):
            return str(value.get(key, default))
        return str(getattr(value, key, default))

    return pick


def known_words(*words: str, expected: str, strings_only: bool = True) -> BeforeValidator:
    """Refuse a string other than `words` (with `strings_only=False`: any set value other than
    them) with `expected` as the message, before a union of a word and other types says only
    "expected <the word>" (`target_modules = "q_proj,v_proj"`). The translator suggests the
    nearest of `words`."""

    def check(value: object) -> object:
        unknown = value not in words and (isinstance(value, str) if strings_only else value is not None)
        if unknown:
            raise PydanticCustomError("unknown_word", expected, {"choices": list(words)})
        return value

    return BeforeValidator(check)


@dataclass(frozen=True)
class UnionKey:
    """Marks a table that chooses its schema by `key` (`default` when the key is absent). Loading
    replaces rather than merges such a table when a spec changes the key from its base, and the
    reference names each member by it."""

    key: str
    default: str


def tagged_union(key: str, default: str, members: dict[str, type]) -> Any:
    """`Annotated[A | B | ..., Discriminator, UnionKey]` from {tag: model}: the one place a closed
    union's tags are written."""
    choices = tuple(Annotated[model, Tag(tag)] for tag, model in members.items())
    return Annotated[Union[choices], Discriminator(tag_of(key, default)), UnionKey(key, default)]  # noqa: UP007


def union_keys(model: type[BaseModel], prefix: KeyPath = ()) -> dict[KeyPath, UnionKey]:
    """Every table under `model` that is a `tagged_union`, by key path."""
    out: dict[KeyPath, UnionKey] = {}
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        for mark in info.metadata:
            if isinstance(mark, UnionKey):
                out[path] = mark
        for sub in _models_in(info.annotation):
            out.update(union_keys(sub, path))
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


class SpecModel(BaseModel):
    """A spec section. Unknown keys are errors; each field's docstring is its documentation."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        use_attribute_docstrings=True,
        validate_default=False,
        allow_inf_nan=False,
    )


@dataclass
class Violation:
    """One broken cross-field rule, at `path` relative to the model that checks it."""

    path: KeyPath
    message: str
    suggestion: str | None = None
    code: str = "conflict"


class RuleViolations(ValueError):
    """Raised by a model's rule check; carries every violation so all are reported together."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        super().__init__("; ".join(v.message for v in violations))


@dataclass
class Rules:
    """Collects cross-field violations inside a `model_validator` and raises them at once."""

    violations: list[Violation] = field(default_factory=list)

    def fail(
        self, path: KeyPath | str, message: str, suggestion: str | None = None, code: str = "conflict"
    ) -> None:
        if isinstance(path, str):
            path = tuple(path.split(".")) if path else ()
        self.violations.append(Violation(path, message, suggestion, code))

    def raise_any(self) -> None:
        if self.violations:
            raise RuleViolations(self.violations)

"""The base of every spec section: strict, self-documenting, with located rule errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from peftspec.spec.diagnostics import KeyPath


def tag_of(key: str, default: str) -> Callable[[object], str]:
    """A union discriminator: the value of `key` in a table (or on a model), `default` when absent."""

    def pick(value: object) -> str:
        if isinstance(value, dict):
            return str(value.get(key, default))
        return str(getattr(value, key, default))

    return pick


class SpecModel(BaseModel):
    """A spec section. Unknown keys are errors; each field's docstring is its documentation."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        use_attribute_docstrings=True,
        validate_default=False,
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

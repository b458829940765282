"""Pieces shared by adapter kinds: target-module lists and the context a peft config needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from peftspec.spec.base import known_words


def _word_or_list(value: object) -> str:
    return "word" if isinstance(value, str) else "list"


TargetModules = Annotated[
    Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1), Tag("list")]
    | Annotated[Literal["all-linear"], Tag("word")],
    Discriminator(_word_or_list),
    known_words(
        "all-linear", expected='expected a list of module names (["q_proj", "v_proj"]), or "all-linear"'
    ),
]
"""Module names to wrap (`["q_proj", "v_proj"]`, matched as name suffixes) or `"all-linear"`."""


@dataclass(frozen=True)
class PeftContext:
    """What a peft config needs beyond the adapter section (filled in by the compiler)."""

    total_steps: int | None = None
    tokenizer: str | None = None


def task_type():
    from peft import TaskType

    return TaskType.SEQ_CLS

"""The contract of an adapter kind: what every `[adapter]` table answers, whatever its kind.

Consumers (the model builder, `peftspec check`, lint, the overview) ask these methods and never
probe for fields. A kind overrides what applies to it; the defaults describe a kind that wraps no
named modules, saves none and leaves the backbone frozen.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, ClassVar, Literal

from peftspec.spec.base import SpecModel

if TYPE_CHECKING:
    from peftspec.spec.adapters.common import PeftContext


class AdapterSpec(SpecModel):
    """Base of every adapter kind (each declares `kind: Literal["<kind>"]` first)."""

    trains_backbone: ClassVar[bool] = False
    """True when every backbone weight is trained (no adapter): the run saves the whole model."""
    names_modules: ClassVar[bool] = False
    """True when the kind's fields name modules of the backbone (`peftspec check` checks them)."""

    @classmethod
    def kind_name(cls) -> str:
        """The `kind` value that selects this class."""
        (name,) = typing.get_args(cls.model_fields["kind"].annotation)
        return name

    def targets(self) -> list[str] | Literal["all-linear"] | None:
        """Module names the adapter wraps (as peft matches them), `"all-linear"`, or None for
        peft's default for the architecture (or a kind that wraps no modules)."""
        return None

    def feedforward(self) -> list[str]:
        """Target modules that are feed-forward layers (IA3 scales their input)."""
        return []

    def saved_modules(self) -> list[str]:
        """Modules trained in full and saved with the adapter (the head is always added)."""
        return []

    def rank(self) -> int | None:
        """The rank of the update, for kinds that have one."""
        return None

    def summary(self, wrapped: list[str]) -> str:
        """One line for the overview and reports: `lora r=8 on query, value`."""
        text = self.kind_name()
        if self.rank() is not None:
            text += f" r={self.rank()}"
        if wrapped:
            text += f" on {', '.join(wrapped)}"
        return text

    def to_peft_config(self, ctx: PeftContext):
        """The peft config (peft imported inside), or None when no adapter is attached."""
        raise NotImplementedError


class WrapsModules:
    """For kinds with `target_modules` and `modules_to_save` fields: the contract answers from them."""

    names_modules = True

    if TYPE_CHECKING:
        target_modules: list[str] | Literal["all-linear"] | None
        modules_to_save: list[str] | None

    def targets(self) -> list[str] | Literal["all-linear"] | None:
        return self.target_modules

    def saved_modules(self) -> list[str]:
        return list(self.modules_to_save or [])

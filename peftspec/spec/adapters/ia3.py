"""`kind = "ia3"`: learned rescaling vectors, far fewer parameters than LoRA."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from peftspec.spec.adapters.base import AdapterSpec, WrapsModules
from peftspec.spec.adapters.common import PeftContext, TargetModules, task_type
from peftspec.spec.base import Rules


class IA3Adapter(WrapsModules, AdapterSpec):
    """IA3: scale keys, values and feed-forward activations by learned vectors."""

    kind: Literal["ia3"]
    """Adapter kind."""
    target_modules: TargetModules | None = None
    """Modules whose activations are rescaled; unset = peft's default for the architecture."""
    feedforward_modules: list[str] | None = None
    """Which target modules are feed-forward layers (scaled on the input, not the output);
    must be a subset of `target_modules`. Unset = peft's default."""
    modules_to_save: list[str] | None = None
    """Extra modules trained in full and saved with the adapter; the classification head is
    always included."""
    init_weights: bool = True
    """Start the vectors at 1 (identity). False = random init, for testing only."""

    @model_validator(mode="after")
    def _rules(self) -> IA3Adapter:
        rules = Rules()
        targets = self.target_modules
        if self.feedforward_modules is not None and isinstance(targets, list):
            extra = [m for m in self.feedforward_modules if m not in targets]
            if extra:
                rules.fail(
                    "feedforward_modules",
                    "`feedforward_modules` must be a subset of "
                    f"`target_modules`; not in target_modules: {', '.join(extra)}",
                )
        if self.feedforward_modules is not None and targets is None:
            rules.fail(
                "feedforward_modules",
                "`feedforward_modules` needs explicit `target_modules` to be a subset of",
                code="missing-key",
            )
        rules.raise_any()
        return self

    def feedforward(self) -> list[str]:
        return list(self.feedforward_modules or [])

    def to_peft_config(self, ctx: PeftContext):
        from peft import IA3Config

        return IA3Config(
            task_type=task_type(),
            target_modules=self.target_modules,
            feedforward_modules=self.feedforward_modules,
            modules_to_save=self.modules_to_save,
            init_ia3_weights=self.init_weights,
        )

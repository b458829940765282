"""`kind = "prompt_tuning"`: learn a few virtual tokens prepended to every input."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from peftspec.spec.adapters.base import AdapterSpec
from peftspec.spec.adapters.common import PeftContext, task_type
from peftspec.spec.base import Rules


class PromptTuningAdapter(AdapterSpec):
    """Prompt tuning: the smallest adapter (`num_virtual_tokens x hidden` parameters); works best
    on large backbones."""

    kind: Literal["prompt_tuning"]
    """Adapter kind."""
    num_virtual_tokens: int = Field(default=20, ge=1)
    """How many virtual tokens to learn; each costs one position of `max_length`."""
    init: Literal["random", "text"] = "random"
    """Start the virtual tokens at random, or at the embeddings of `init_text`."""
    init_text: str | None = None
    """Text whose token embeddings initialise the prompt (`init = "text"`), e.g. a task description."""

    @model_validator(mode="after")
    def _rules(self) -> PromptTuningAdapter:
        rules = Rules()
        if self.init == "text" and not self.init_text:
            rules.fail("init_text", 'init = "text" needs `init_text`', code="missing-key")
        rules.raise_any()
        return self

    def summary(self, wrapped: list[str]) -> str:
        return f"prompt_tuning, {self.num_virtual_tokens} virtual tokens"

    def to_peft_config(self, ctx: PeftContext):
        from peft import PromptTuningConfig, PromptTuningInit

        text = self.init == "text"
        return PromptTuningConfig(
            task_type=task_type(),
            num_virtual_tokens=self.num_virtual_tokens,
            prompt_tuning_init=PromptTuningInit.TEXT if text else PromptTuningInit.RANDOM,
            prompt_tuning_init_text=self.init_text if text else None,
            tokenizer_name_or_path=ctx.tokenizer if text else None,
        )

"""The built-in table of model families: real configs of reference models, no download needed.

`peftspec check` builds toy models of the same architecture from it, and `peftspec plan` estimates
memory from it, when a backbone's config is neither a local folder nor in the local HF cache.
A model id matches the first family whose pattern it contains; a few ids have exact entries.
Importing this module imports no transformers; `config_for` does.
"""

from __future__ import annotations

import re
from typing import Any

from peftspec.plan.family import Family
from peftspec.plan.family_table import FAMILIES

__all__ = [
    "FAMILIES",
    "Family",
    "UnknownFamily",
    "config_for",
    "families_markdown",
    "family_for_type",
    "family_of",
    "reference_values",
]


class UnknownFamily(LookupError):
    """No built-in family matches a model id; the message lists the families there are."""


def family_of(model_id: str) -> Family:
    """The family whose exact ids or pattern match `model_id`; raises `UnknownFamily`."""
    lowered = model_id.lower()
    for family in FAMILIES:
        if model_id in family.known or model_id == family.reference:
            return family
    for family in FAMILIES:
        if re.search(family.pattern, lowered):
            return family
    names = ", ".join(f.name for f in FAMILIES)
    raise UnknownFamily(
        f"{model_id!r} is not in the built-in family table ({names}) and its config is neither a local "
        "folder nor in the local Hugging Face cache; download it once (`huggingface-cli download "
        f"{model_id} config.json`) or point backbone.model at a local folder"
    )


def reference_values(model_id: str) -> tuple[Family, dict[str, Any]]:
    """The family of `model_id` and its config values (exact ones where the id is known)."""
    family = family_of(model_id)
    return family, {**family.config, **family.known.get(model_id, {})}


def config_for(model_id: str):
    """A transformers config with the real dimensions of `model_id` from the table."""
    from transformers import AutoConfig

    family, values = reference_values(model_id)
    dtype = values.pop("torch_dtype", "float32")
    config = AutoConfig.for_model(family.model_type, **values)
    config.dtype = dtype
    return config


def family_for_type(model_type: str) -> Family | None:
    """The family of a transformers `model_type` (for configs read from disk), if the table has it."""
    return next((f for f in FAMILIES if f.model_type == model_type), None)


def families_markdown() -> str:
    """The table for the docs: family, matching ids, reference model, exact ids."""
    lines = ["| family | ids containing | reference config | also known exactly |", "|---|---|---|---|"]
    for f in FAMILIES:
        known = ", ".join(f"`{k}`" for k in f.known) or "-"
        lines.append(f"| {f.name} | `{f.pattern}` | `{f.reference}` | {known} |")
    return "\n".join(lines)

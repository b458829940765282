"""`[tracking]`: run naming, where run directories go, and optional Weights & Biases logging."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from peftspec.spec.base import SpecModel
from peftspec.spec.paths import NAME_PATTERN


class WandbSpec(SpecModel):
    """Weights & Biases logging. The API key comes from the environment and is never recorded."""

    project: str = "peftspec"
    """W&B project name."""
    entity: str | None = None
    """W&B team or user; unset = your default entity."""
    tags: list[str] = Field(default_factory=list)
    """Tags attached to the W&B run."""
    group: str | None = None
    """Group related runs (e.g. the arms of one comparison)."""
    mode: Literal["online", "offline", "disabled"] = "online"
    """`offline` writes locally for a later `wandb sync`; `disabled` turns logging off. Left unset,
    `WANDB_MODE` from the environment wins over the default; set here, it wins over the environment."""

    def effective_mode(self, environ) -> str:
        """The mode W&B runs in: the spec's when written, else `WANDB_MODE`, else online."""
        if "mode" in self.model_fields_set:
            return self.mode
        mode = environ.get("WANDB_MODE", "").strip().lower()
        return mode if mode in ("online", "offline", "disabled") else self.mode


class TrackingSpec(SpecModel):
    """Where the run directory goes and what it is called."""

    run_name: str | None = Field(default=None, min_length=1, max_length=120, pattern=NAME_PATTERN)
    """Name of the run directory (a UTC timestamp is appended); unset = the spec's `name`."""
    output_root: str = "runs"
    """Folder that holds run directories, relative to the working directory (where
    `peftspec tui` looks by default)."""
    wandb: WandbSpec | None = None
    """Log to W&B when this table is present; unset = no W&B."""

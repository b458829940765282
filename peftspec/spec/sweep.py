"""`[sweep]`: a hyperparameter search over this spec with Optuna (`peftspec sweep SPEC`).

```toml
[sweep]
trials = 20
pruner = "median"

[sweep.space]
"trainer.learning_rate" = { log_uniform = [1e-4, 1e-2] }
"adapter.r" = { choice = [4, 8, 16] }
"adapter.dropout" = { uniform = [0.0, 0.2] }
"trainer.epochs" = { integer = [2, 6] }
```

Each key of `space` is a dotted spec key; each trial is an ordinary run of this spec with those
keys set (`--set KEY=VALUE`). Lint checks that every key is a spec key and that the spec
validates at both ends of every range and with every choice.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from peftspec.spec.base import Rules, SpecModel

Value = str | int | float | bool


class Distribution(SpecModel):
    """Where a key's values are drawn from: exactly one of `log_uniform`, `uniform`, `integer`
    or `choice`."""

    log_uniform: list[float] | None = Field(default=None, min_length=2, max_length=2)
    """`[low, high]`, both above 0, drawn uniformly on a log scale (learning rates)."""
    uniform: list[float] | None = Field(default=None, min_length=2, max_length=2)
    """`[low, high]`, drawn uniformly."""
    integer: list[int] | None = Field(default=None, min_length=2, max_length=2)
    """`[low, high]`, whole numbers, both included."""
    step: float | None = Field(default=None, gt=0)
    """With `integer` or `uniform`: only multiples of `step` above `low`."""
    log: bool = False
    """With `integer`: drawn on a log scale."""
    choice: list[Value] | None = Field(default=None, min_length=1)
    """The values to choose from."""

    @model_validator(mode="after")
    def _rules(self) -> Distribution:
        rules = Rules()
        kinds = [k for k in ("log_uniform", "uniform", "integer", "choice") if getattr(self, k) is not None]
        if len(kinds) != 1:
            rules.fail(
                (),
                "give exactly one of log_uniform, uniform, integer or choice"
                + (f" (found {', '.join(kinds)})" if kinds else ""),
                code="missing-key" if not kinds else "value-error",
            )
        for kind in ("log_uniform", "uniform", "integer"):
            bounds = getattr(self, kind)
            if bounds is not None and not bounds[0] < bounds[1]:
                rules.fail(kind, f"[low, high] needs low < high, got {list(bounds)}")
        if self.log_uniform is not None and self.log_uniform[0] <= 0:
            rules.fail("log_uniform", "a log scale needs a low bound above 0")
        if self.step is not None and self.integer is None and self.uniform is None:
            rules.fail("step", "`step` goes with `integer` or `uniform`")
        if self.log and self.integer is None:
            rules.fail("log", "`log` goes with `integer` (use `log_uniform` for real numbers)")
        if self.log and self.integer is not None and self.integer[0] < 1:
            rules.fail("integer", "a log scale needs a low bound of 1 or more")
        if self.choice is not None and len({repr(v) for v in self.choice}) != len(self.choice):
            rules.fail("choice", "the choices repeat a value")
        rules.raise_any()
        return self

    @property
    def kind(self) -> str:
        return next(
            k for k in ("log_uniform", "uniform", "integer", "choice") if getattr(self, k) is not None
        )

    def extremes(self) -> list[Value]:
        """The values a trial can take at the edges: both bounds, or every choice."""
        if self.choice is not None:
            return list(self.choice)
        low, high = getattr(self, self.kind)
        if self.step is not None:  # the largest multiple of step that fits
            high = low + self.step * int((high - low) // self.step)
            high = int(high) if self.kind == "integer" else high
        return [low, high]

    def grid(self) -> list[Value] | None:
        """The values of a grid search, or None for a continuous range."""
        if self.choice is not None:
            return list(self.choice)
        if self.integer is not None:
            step = int(self.step or 1)
            return list(range(self.integer[0], self.integer[1] + 1, step))
        return None


class SweepSpec(SpecModel):
    """A search over this spec's keys with Optuna; `peftspec sweep SPEC` runs it. Every trial is
    an ordinary run (its own run directory), and the study lives in a journal file beside the runs
    (or a database given with `--storage`)."""

    metric: str | None = None
    """The validation metric to optimise (`f1_macro`, `loss`, ...); unset = `trainer.best_metric`,
    else the task's primary metric. Read from the run's validation evaluation (cross-fitted when
    thresholds are tuned) and, for pruning, from each evaluation during training."""
    direction: Literal["maximize", "minimize"] | None = None
    """Unset = the metric's own direction."""
    trials: int = Field(default=20, ge=1, le=10_000)
    """Trials in the study in total, across restarts and workers."""
    folds: int | None = Field(default=None, ge=2, le=20)
    """Score each trial by k-fold cross-validation: the trial trains one run per fold of the
    training data (`peftspec run --folds`, as one group) and its value is the mean of their
    validation figures. K times the training, for a value that does not hang on one small
    hold-out; the pruner watches the first fold. Each fold's run sets `dataset.folds` and
    `dataset.fold`. Unset = one run per trial, validated on the spec's validation data or hold-out."""
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    """How the next trial's values are chosen: TPE (Bayesian), random, or every combination of a
    grid (`choice` and `integer` keys only)."""
    pruner: Literal["median", "hyperband", "none"] = "median"
    """Stop trials early whose evaluations trail: `median` (below the median of earlier trials at
    the same step), `hyperband`, or `none`. A pruned trial stops at a checkpoint (SIGTERM)."""
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    """The sampler's seed (each worker adds its own offset)."""
    space: dict[str, Distribution] = Field(default_factory=dict)
    """Dotted spec keys and where their values are drawn from."""
    adapters: dict[str, dict[str, Any]] | None = None
    """Per adapter kind, the whole `[adapter]` table a trial uses when it draws that kind, whose
    values may be distributions (`[sweep.adapters.lora]` with `r = { choice = [4, 16] }`); with two
    or more kinds, `adapter.kind` is searched among them, each kind with its own keys."""

    @model_validator(mode="after")
    def _rules(self) -> SweepSpec:
        from peftspec.spec.adapters import ADAPTERS

        rules = Rules()
        if not self.space and not self.adapters:
            rules.fail(
                "space",
                "nothing to search: give [sweep.space] keys or [sweep.adapters.KIND] tables",
                code="missing-key",
            )
        for kind, table in (self.adapters or {}).items():
            if kind not in ADAPTERS:
                from peftspec.spec.diagnostics import did_you_mean

                rules.fail(
                    ("adapters", kind),
                    f"{kind!r} is not an adapter kind; kinds: {', '.join(ADAPTERS)}",
                    did_you_mean(kind, list(ADAPTERS)),
                )
            if "kind" in table and table["kind"] != kind:
                rules.fail(("adapters", kind, "kind"), f"the table of {kind!r} cannot set another kind")
            for key, value in table.items():
                if is_distribution(value):
                    try:
                        Distribution.model_validate(value)
                    except ValueError as exc:
                        rules.fail(("adapters", kind, key), f"not a distribution: {exc}".splitlines()[0])
        clash = [k for k in self.space if k.startswith("adapter.")]
        if self.adapters and clash:
            rules.fail(
                ("space", clash[0]), "with [sweep.adapters.KIND] tables, adapter keys belong in those tables"
            )
        rules.raise_any()
        return self

    def adapter_tables(self) -> dict[str, dict[str, Any]]:
        """Each kind's table with its distributions parsed (`Distribution`) and `kind` set."""
        return {
            kind: {
                "kind": kind,
                **{k: Distribution.model_validate(v) if is_distribution(v) else v for k, v in table.items()},
            }
            for kind, table in (self.adapters or {}).items()
        }


DISTRIBUTION_KEYS = ("log_uniform", "uniform", "integer", "choice")


def is_distribution(value: Any) -> bool:
    """A table of an adapter's sweep table that draws values (rather than a value that is a table)."""
    return isinstance(value, dict) and any(k in value for k in DISTRIBUTION_KEYS)

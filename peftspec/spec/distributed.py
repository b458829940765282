"""`[distributed]`: one spec, many GPUs or nodes, through PyTorch's own launcher (torchrun)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from peftspec.spec.base import Rules, SpecModel


class FsdpOptions(SpecModel):
    """Fully Sharded Data Parallel: weights, gradients and optimizer states sharded over the GPUs."""

    sharding: Literal["full_shard", "shard_grad_op", "hybrid_shard", "no_shard"] = "full_shard"
    """What is sharded: everything (`full_shard`), gradients and optimizer states only
    (`shard_grad_op`), full sharding within a node and replication across nodes (`hybrid_shard`)."""
    auto_wrap: Literal["transformer_layer", "size"] = "transformer_layer"
    """How the model is cut into shards: one unit per transformer layer (the layer class is read
    from the model), or by parameter count (`min_params`)."""
    min_params: int = Field(default=100_000_000, ge=1)
    """Parameters per unit with `auto_wrap = "size"`."""
    cpu_offload: bool = False
    """Keep parameters and gradients in CPU memory between uses: fits bigger models, much slower."""
    use_orig_params: bool = True
    """Keep the original parameters visible to the optimizer; adapters need it (frozen and
    trainable parameters share FSDP's flat buffers)."""


class DistributedSpec(SpecModel):
    """How many processes train together; launched with `peftspec run --nproc-per-node N` (or
    `torchrun ... -m peftspec run SPEC`)."""

    strategy: Literal["none", "ddp", "fsdp"] = "none"
    """`ddp` replicates the model on each GPU and averages gradients; `fsdp` shards it; `none`
    trains in one process."""
    processes_per_node: int = Field(default=1, ge=1)
    """Processes (one per GPU) on each node; the command line's `--nproc-per-node` overrides it."""
    nodes: int = Field(default=1, ge=1)
    """Machines taking part; the command line's `--nnodes` overrides it."""
    find_unused_parameters: bool = False
    """DDP: search each step for parameters that got no gradient. Slower; needed only by models
    with branches that some steps skip."""
    fsdp: FsdpOptions = Field(default_factory=FsdpOptions)
    """FSDP options (`strategy = "fsdp"`)."""

    @model_validator(mode="after")
    def _rules(self) -> DistributedSpec:
        rules = Rules()
        if self.strategy == "none" and (self.processes_per_node > 1 or self.nodes > 1):
            rules.fail(
                "strategy",
                'several processes need a strategy: "ddp" (replicate) or "fsdp" (shard)',
                suggestion="ddp",
            )
        rules.raise_any()
        return self

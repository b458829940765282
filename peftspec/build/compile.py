"""`trainer.torch_compile`: regional compilation of the backbone's repeated block.

Compiling the whole model recompiles for every new padded width and takes minutes for a large
backbone. The blocks of a transformer (its decoder or encoder layers) are all the same code, so
compiling each block with `torch.compile` costs one compile that every layer reuses (PyTorch
treats a module's parameters as inputs), and `dynamic=True` makes one graph serve every batch size
and sequence length. The adapter's layers sit inside the blocks and are compiled with them; the
embeddings, pooling and head run eagerly. This is PyTorch's "regional compilation" recipe.
"""

from __future__ import annotations


def repeated_blocks(model):
    """(path, blocks) of the longest `nn.ModuleList` whose members are all one class: the layers
    of a transformer. None when the model has no such list."""
    import torch

    best = None
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.ModuleList) or len(module) < 2:
            continue
        kinds = {type(block) for block in module}
        if len(kinds) == 1 and (best is None or len(module) > len(best[1])):
            best = (name, list(module))
    return best


def compile_blocks(model, mode: str | None = None) -> str | None:
    """Compile each repeated block of `model` in place; what was compiled, for the plan (e.g.
    `24 GemmaDecoderLayer blocks`), or None when there is no repeated block.

    `mode`: `torch.compile`'s; None is its default. `"reduce-overhead"` also captures each block's
    kernels as a CUDA graph, one per padded width (on a GPU widths are rounded up to a multiple of
    8, which bounds how many) and replays it: one launch per block instead of one per kernel, for
    runs whose steps are too small to keep the GPU busy. It is an experiment, measured by the GPU
    benchmark's `cuda-graphs` arm and not reachable from a spec until it measures faster; on a CPU
    PyTorch skips the graphs and it is an ordinary compile."""
    found = repeated_blocks(model)
    if found is None:
        return None
    _, blocks = found
    for block in blocks:
        block.compile(dynamic=True, mode=mode)
    graphs = ", CUDA graphs" if mode == "reduce-overhead" else ""
    return f"{len(blocks)} {type(blocks[0]).__name__} blocks (regional, dynamic shapes{graphs})"

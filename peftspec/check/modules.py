"""Do the adapter's module names exist in the architecture, as the layers they must be?

peft matches a name in `target_modules` against the end of each module path (`q_proj` matches
`model.layers.0.self_attn.q_proj`). A name that matches nothing is the classic mistake of a spec
copied from another architecture; peft reports it late and without saying where it was written.
"""

from __future__ import annotations

from collections.abc import Iterator

from peftspec.spec.diagnostics import KeyPath, did_you_mean

ADAPTABLE = {"Linear", "Conv1D", "Conv1d", "Conv2d", "Embedding", "Linear4bit", "Linear8bitLt"}
"""Layer types that LoRA-style adapters wrap (Embedding only for LoRA; close enough for a check)."""
LINEAR = {"Linear", "Conv1D", "Linear4bit", "Linear8bitLt"}

Problem = tuple[KeyPath, str, str, str | None]


def _matches(names: list[str], key: str) -> list[str]:
    return [n for n in names if n == key or n.endswith("." + key)]


def module_problems(adapter, model) -> Iterator[Problem]:
    """Each name in the adapter's module lists that the model lacks, or that is the wrong kind."""
    modules = dict(model.named_modules())
    names = list(modules)
    arch = type(model).__name__
    layers = sorted({n.rsplit(".", 1)[-1] for n, m in modules.items() if type(m).__name__ in LINEAR})
    targets = adapter.targets()
    if isinstance(targets, list):
        for i, key in enumerate(targets):
            found = _matches(names, key)
            kinds = {type(modules[n]).__name__ for n in found}
            if not found:
                yield (
                    ("adapter", "target_modules", i),
                    "unknown-module",
                    f"{arch} has no module named {key!r}; its linear layers are {', '.join(layers)}",
                    did_you_mean(key, layers),
                )
            elif not kinds & ADAPTABLE:
                yield (
                    ("adapter", "target_modules", i),
                    "not-adaptable",
                    f"{key!r} in {arch} is a {', '.join(sorted(kinds))}, not a layer an adapter can wrap; "
                    f"name its linear layers instead ({', '.join(layers)})",
                    None,
                )
    for i, key in enumerate(adapter.feedforward()):
        kinds = {type(modules[n]).__name__ for n in _matches(names, key)}
        if kinds and not kinds & LINEAR:
            yield (
                ("adapter", "feedforward_modules", i),
                "not-linear",
                f"IA3 feed-forward module {key!r} in {arch} is a {', '.join(sorted(kinds))}, not a linear "
                f"layer; name the feed-forward projections instead ({', '.join(layers)})",
                None,
            )
    for i, key in enumerate(adapter.saved_modules()):
        if not _matches(names, key):
            tops = sorted({n.rsplit(".", 1)[-1] for n in names if n and n.count(".") <= 1})
            yield (
                ("adapter", "modules_to_save", i),
                "unknown-module",
                f"{arch} has no module named {key!r} to train in full",
                did_you_mean(key, tops),
            )

"""How much of the data `dataset.max_length` cuts, per split, measured with the run's tokenizer.

A text longer than `max_length` tokens is truncated: the model never sees its end, and a run's
figures say nothing of it. The plan states, per split, how many texts were cut and how long the
longest was, so a user can tell "max_length 64 suits these tweets" from "it throws away a third of
every review". Only rows that came out of tokenisation at exactly `max_length` tokens can have been
cut, so only those are tokenised again, without truncation, to measure them.
"""

from __future__ import annotations

from dataclasses import dataclass

from peftspec.build.data import Split

MANY = 0.05
"""A share of cut training texts from which the plan suggests a larger `max_length`."""


@dataclass(frozen=True)
class Cut:
    rows: int
    cut: int
    """Texts (with their pair) longer than `max_length` tokens."""
    longest: int
    """Tokens of the longest text, uncut."""


def measure(split: Split, dataset, tokenizer, max_length: int) -> Cut:
    """How many of `split`'s texts `dataset` (their tokenisation, truncated at `max_length`) cut."""
    import pyarrow.compute as pc

    lengths = pc.list_value_length(dataset.data.column("input_ids")).to_numpy()
    at_limit = [i for i, n in enumerate(lengths) if n >= max_length]
    longest = int(lengths.max()) if len(lengths) else 0
    if not at_limit:
        return Cut(len(lengths), 0, longest)
    texts = [split.texts[i] for i in at_limit]
    pairs = [split.pairs[i] for i in at_limit] if split.pairs is not None else None
    full = [len(ids) for ids in tokenizer(texts, pairs, truncation=False, verbose=False)["input_ids"]]
    return Cut(len(lengths), sum(n > max_length for n in full), max(longest, *full))


WHERE = {"end": "", "start": ", each cut at its start", "middle": ", each cut in its middle"}
"""How the plan says where `dataset.truncate` cuts (nothing for the usual end)."""


def truncation_line(cuts: dict[str, Cut], max_length: int, truncate: str = "end") -> str:
    """The plan's line: `none (the longest text is 41 of 64 tokens)`, or each split's share cut."""
    if not any(c.cut for c in cuts.values()):
        longest = max((c.longest for c in cuts.values()), default=0)
        return f"none (the longest text is {longest:,} of {max_length:,} tokens)"
    parts = [
        f"{name} {_share(c)} ({c.cut:,} of {c.rows:,}, longest {c.longest:,} tokens)"
        for name, c in cuts.items()
    ]
    line = f"at {max_length:,} tokens{WHERE[truncate]}: " + ", ".join(parts)
    train = cuts.get("train")
    if train is not None and train.cut / max(train.rows, 1) >= MANY:
        line += "; raise dataset.max_length to keep more of each text (memory and time grow with it)"
        if truncate == "end":
            line += ', or set dataset.truncate = "middle" to keep the end of each text as well'
    return line


def _share(cut: Cut) -> str:
    share = cut.cut / max(cut.rows, 1)
    return "<0.1%" if 0 < share < 0.0005 else f"{share:.1%}"

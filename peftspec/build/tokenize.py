"""Texts -> token ids as `datasets.Dataset`s; padding happens per batch in the collator."""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from typing import Any

from peftspec.build.data import Split
from peftspec.errors import UserError

CACHE_DIR = os.path.join(os.path.expanduser(os.environ.get("PEFTSPEC_CACHE", "~/.cache/peftspec")), "tokens")


HEAD_SHARE = 0.25
"""`truncate = "middle"`: the share of the token budget kept from a long text's beginning; the rest
comes from its end (Sun et al., 2019: 128 head and 382 tail tokens of 512 did best on IMDb)."""


def to_dataset(split: Split, tokenizer, max_length: int, task: str, truncate: str = "end"):
    """A tokenised `datasets.Dataset` (input ids, attention mask, labels), cached on disk by content;
    texts over `max_length` tokens cut as `truncate` says (`encode`)."""
    from datasets import Dataset

    columns: dict[str, Any] = {"text": split.texts, "labels": _labels(split, task)}
    if split.pairs is not None:
        columns["text_pair"] = split.pairs
    raw = Dataset.from_dict(columns)

    def tokenize(batch):
        return encode(tokenizer, batch["text"], batch.get("text_pair"), max_length, truncate)

    os.makedirs(CACHE_DIR, exist_ok=True)
    key = _fingerprint(split, tokenizer, max_length, task, truncate)
    cache = os.path.join(CACHE_DIR, f"{key}.arrow")
    remove = [c for c in ("text", "text_pair") if c in columns]
    return raw.map(
        tokenize,
        batched=True,
        remove_columns=remove,
        cache_file_name=cache,
        load_from_cache_file=True,
        desc=f"Tokenising {split.name}",
    )


def encode(tokenizer, texts: list[str], pairs: list[str] | None, max_length: int, truncate: str = "end"):
    """The tokenizer's encoding of `texts` (and `pairs`), each at most `max_length` tokens with its
    special tokens: `end` and `start` are the tokenizer's own truncation on the right or the left
    (a pair is cut at the end or start of its longer text); `middle` keeps `HEAD_SHARE` of the
    budget from a text's beginning and the rest from its end."""
    if truncate != "middle":
        with _cutting_side(tokenizer, "left" if truncate == "start" else "right"):
            return tokenizer(texts, pairs, truncation=True, max_length=max_length)
    if pairs is not None:
        raise ValueError("text pairs are cut at their end or start, not the middle")
    before, after = special_tokens(tokenizer)
    budget = max_length - len(before) - len(after)
    head = int(budget * HEAD_SHARE)
    contents = tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    ids = [
        before + (c if len(c) <= budget else c[:head] + c[len(c) - budget + head :]) + after for c in contents
    ]
    encoded: dict[str, list] = {"input_ids": ids, "attention_mask": [[1] * len(row) for row in ids]}
    if "token_type_ids" in tokenizer.model_input_names:
        encoded["token_type_ids"] = [[0] * len(row) for row in ids]
    return encoded


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after a single text's own ids."""
    probe = "classification"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return full[:start], full[start + len(bare) :]
    raise UserError(
        f"{tokenizer.name_or_path}'s tokenizer does not put its special tokens around a text, so "
        'dataset.truncate = "middle" cannot cut a text with it',
        hint='use dataset.truncate = "end" or "start"',
    )


@contextmanager
def _cutting_side(tokenizer, side: str):
    """The tokenizer truncating on `side` (some checkpoints save `left`), as it was afterwards."""
    before = tokenizer.truncation_side
    tokenizer.truncation_side = side
    try:
        yield
    finally:
        tokenizer.truncation_side = before


def _labels(split: Split, task: str) -> list:
    return split.labels.astype("float32").tolist() if task == "multi_label" else split.labels.tolist()


def _fingerprint(split: Split, tokenizer, max_length: int, task: str, truncate: str) -> str:
    digest = hashlib.sha256()
    for part in (
        tokenizer.name_or_path,
        str(len(tokenizer)),
        str(tokenizer.pad_token),
        str(max_length),
        task,
        *([truncate] if truncate != "end" else []),  # the caches of `end` stay valid
    ):
        digest.update(part.encode() + b"\0")
    digest.update("\x1f".join(split.texts).encode())
    if split.pairs is not None:
        digest.update("\x1f".join(split.pairs).encode())
    digest.update(split.labels.tobytes())
    return digest.hexdigest()[:32]


GPU_PAD_MULTIPLE = 8
"""On a GPU, batches are padded to a multiple of this many positions: tensor cores like it and it
bounds the number of distinct shapes the kernels are tuned for. On the SemEval tweets it is also
most of the padding left in length-grouped training batches (`benchmarks/padding.py`), which is
why the GPU benchmark's `pad-longest` arm measures it."""


def collator(tokenizer, multiple: int | None = None):
    """Pads each batch to its longest row, rounded up to a multiple of `multiple` positions
    (None: `GPU_PAD_MULTIPLE` on a GPU, no rounding on a CPU; 1: no rounding)."""
    import torch
    from transformers import DataCollatorWithPadding

    if multiple is None:
        multiple = GPU_PAD_MULTIPLE if torch.cuda.is_available() else 1
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=multiple if multiple > 1 else None)

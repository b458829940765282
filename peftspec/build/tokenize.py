"""Texts -> token ids as `datasets.Dataset`s; padding happens per batch in the collator."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from peftspec.build.data import Split

CACHE_DIR = os.path.join(os.path.expanduser(os.environ.get("PEFTSPEC_CACHE", "~/.cache/peftspec")), "tokens")


def to_dataset(split: Split, tokenizer, max_length: int, task: str):
    """A tokenised `datasets.Dataset` (input ids, attention mask, labels), cached on disk by content."""
    from datasets import Dataset

    columns: dict[str, Any] = {"text": split.texts, "labels": _labels(split, task)}
    if split.pairs is not None:
        columns["text_pair"] = split.pairs
    raw = Dataset.from_dict(columns)

    def tokenize(batch):
        pair = batch.get("text_pair")
        return tokenizer(batch["text"], pair, truncation=True, max_length=max_length)

    os.makedirs(CACHE_DIR, exist_ok=True)
    cache = os.path.join(CACHE_DIR, f"{_fingerprint(split, tokenizer, max_length, task)}.arrow")
    remove = [c for c in ("text", "text_pair") if c in columns]
    return raw.map(
        tokenize,
        batched=True,
        remove_columns=remove,
        cache_file_name=cache,
        load_from_cache_file=True,
        desc=f"Tokenising {split.name}",
    )


def _labels(split: Split, task: str) -> list:
    return split.labels.astype("float32").tolist() if task == "multi_label" else split.labels.tolist()


def _fingerprint(split: Split, tokenizer, max_length: int, task: str) -> str:
    digest = hashlib.sha256()
    for part in (
        tokenizer.name_or_path,
        str(len(tokenizer)),
        str(tokenizer.pad_token),
        str(max_length),
        task,
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

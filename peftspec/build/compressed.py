"""Data files compressed whole (`train.jsonl.gz`, `reviews.csv.bz2`, `dump.json.xz`): read as the
file inside, its format told by the name under the compression's suffix. Every reader of a data
file's bytes opens it through `open_data`, so a compressed file is checked, guessed and read as its
plain self would be."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from typing import BinaryIO

OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
"""Compression suffix -> how its files open (Python's own modules; no extra package)."""


def compression(path: str) -> str | None:
    """The compression suffix of `path` (`.gz`), or None for a plain file."""
    ext = os.path.splitext(path)[1].lower()
    return ext if ext in OPENERS else None


def inner(path: str) -> str:
    """`path` less its compression suffix: `train.jsonl.gz` -> `train.jsonl`."""
    return path[: -len(ext)] if (ext := compression(path)) else path


def open_data(path: str) -> BinaryIO:
    """The file's bytes as a binary stream, decompressed when it is compressed."""
    ext = compression(path)
    return OPENERS[ext](path, "rb") if ext else open(path, "rb")  # the caller closes it


def read_data(path: str) -> bytes:
    """The file's bytes, decompressed when it is compressed."""
    with open_data(path) as fh:
        return fh.read()

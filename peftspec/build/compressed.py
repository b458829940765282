"""Data files compressed whole (`train.jsonl.gz`, `reviews.csv.bz2`, `dump.json.xz`): read as the
file inside, its format told by the name under the compression's suffix. Every reader of a data
file's bytes opens it through `open_data`, so a compressed file is checked, guessed and read as its
plain self would be."""

from __future__ import annotations

import importlib
from typing import BinaryIO

from peftspec.spec.reader import COMPRESSIONS, compression, inner

__all__ = ["compression", "inner", "open_data", "read_data"]


def open_data(path: str) -> BinaryIO:
    """The file's bytes as a binary stream, decompressed when it is compressed."""
    ext = compression(path)
    if ext is None:
        return open(path, "rb")  # the caller closes it
    return importlib.import_module(COMPRESSIONS[ext]).open(path, "rb")


def read_data(path: str) -> bytes:
    """The file's bytes, decompressed when it is compressed."""
    with open_data(path) as fh:
        return fh.read()

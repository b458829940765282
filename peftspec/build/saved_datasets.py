"""Datasets written by `datasets`' `save_to_disk`, read like data files.

A split's folder (`state.json`, `dataset_info.json` and Arrow files) is a source of rows like a
file: `train = "data/emotions/train"`. Its `ClassLabel` features arrive as class names, in the
dataset's order, as a Hub dataset's do. The folder of a whole `DatasetDict` (`dataset_dict.json`
and one folder per split) is not one split: naming it is refused with its splits' folders.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from peftspec.build.problems import DataError, DataProblem

if TYPE_CHECKING:
    import polars as pl

SPLIT, SPLITS = "split", "splits"


def saved_kind(path: str) -> str | None:
    """`SPLIT` for one saved split's folder, `SPLITS` for a saved `DatasetDict`'s, else None."""
    if os.path.isfile(os.path.join(path, "state.json")) and os.path.isfile(
        os.path.join(path, "dataset_info.json")
    ):
        return SPLIT
    if os.path.isfile(os.path.join(path, "dataset_dict.json")):
        return SPLITS
    return None


def split_names(path: str) -> list[str]:
    """The splits of a saved `DatasetDict`, in its order."""
    with open(os.path.join(path, "dataset_dict.json"), encoding="utf-8") as fh:
        return list(json.load(fh).get("splits", []))


def arrow_files(path: str) -> list[str]:
    """The Arrow files holding a saved split's rows, in order (what a run's data hash reads)."""
    with open(os.path.join(path, "state.json"), encoding="utf-8") as fh:
        files = [entry["filename"] for entry in json.load(fh).get("_data_files", [])]
    return [os.path.join(path, name) for name in files]


def read_saved(real: str, path: str) -> pl.DataFrame:
    """The rows of the split saved in folder `real` (`path` as the spec names it), its class
    labels decoded to names."""
    from datasets import load_from_disk

    from peftspec.build.environment import quiet_libraries
    from peftspec.build.tables import class_names_decoded

    kind = saved_kind(real)
    if kind == SPLITS:
        folders = ", ".join(repr(f"{path.rstrip('/')}/{name}") for name in split_names(real))
        raise DataError(
            [
                DataProblem(
                    "error",
                    path,
                    "a whole DatasetDict saved with save_to_disk, not one split: name each split's "
                    f"folder (train, validation and test): {folders}",
                )
            ]
        )
    if kind is None:
        raise DataError(
            [
                DataProblem(
                    "error",
                    path,
                    "a folder: name a data file in it, or a folder written by datasets' save_to_disk "
                    "(with state.json and dataset_info.json)",
                )
            ]
        )
    quiet_libraries()
    try:
        dataset = load_from_disk(real)
    except Exception as exc:  # datasets raises many types; the message is what matters
        raise DataError([DataProblem("error", path, f"cannot load the saved dataset: {exc}")]) from None
    return class_names_decoded(dataset)

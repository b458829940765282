"""`peftspec init --data hub:ID[:CONFIG][[SPLIT]]`: a Hub dataset, for `guess`. Its splits are read as a run
reads them (`tables.load_hub`: from the cache at once when the Hub is out of reach), so its class
labels (`ClassLabel`) arrive as names and say which columns are labels; its split names say which
are validation and test, and a split whose labels are all missing (datasets' -1, as GLUE's test
splits hold) is left out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from peftspec.build.guess_columns import SPLIT_WORDS, GuessError

if TYPE_CHECKING:
    import polars as pl

    from peftspec.spec.dataset import HubSource


@dataclass
class HubData:
    source: dict[str, Any]
    """`{hub = ID, config = ...}`, as the spec's sources write it (less the split)."""
    train_split: str
    train: pl.DataFrame
    """The training split, class labels decoded to names."""
    splits: dict[str, str]
    """Spec role (`validation`, `test`) -> the dataset's split name, for splits that have labels."""
    class_columns: list[str]
    """Columns that hold class labels (a class, or a list of them)."""
    order: dict[str, list[str]]
    """Each class column's names in the dataset's order."""
    folders: dict[str, str] | None = None
    """For a dataset saved with `save_to_disk`: each split's folder, which the spec names instead of
    the split; None for a Hub dataset."""

    def location(self, split: str) -> str | dict[str, Any]:
        """How the spec names `split`: its folder, or the Hub source with the split."""
        return self.folders[split] if self.folders is not None else {**self.source, "split": split}


def read_hub_data(reference: HubSource, notes: list[str]) -> HubData:
    """The dataset's splits (all of them, as `load_dataset` gives them), its training split (the one
    the reference names) decoded, and what its features say; the choices go into `notes`."""
    from peftspec.build.environment import quiet_libraries
    from peftspec.build.problems import DataError
    from peftspec.build.tables import load_hub

    quiet_libraries()  # as a run reads data: no bar per split the cache is read into

    source = {"hub": reference.hub, **({"config": reference.config} if reference.config else {})}
    where = f"hub:{reference.hub}"
    try:
        splits = load_hub(reference.hub, reference.config, None, reference.revision, where)
    except DataError as exc:
        raise GuessError(str(exc)) from None
    if reference.split not in splits:
        raise GuessError(
            f"{where} has no {reference.split!r} split (splits: {', '.join(splits)})",
            hint=f"name the training split: {where}[SPLIT]",
        )
    return _described(splits, reference.split, source, notes)


def read_saved_data(path: str, notes: list[str]) -> HubData:
    """A dataset saved with `save_to_disk` (a `DatasetDict`'s folder, or one split's: then its
    sibling splits too), described as a Hub dataset is; its splits are named by their folders."""
    import os

    from datasets import load_from_disk

    from peftspec.build.environment import quiet_libraries
    from peftspec.build.saved_datasets import SPLIT, SPLITS, saved_kind, split_names

    quiet_libraries()
    path = path.rstrip("/") or path
    parent, base = os.path.split(os.path.abspath(path))
    kind = saved_kind(path)
    if kind == SPLIT and saved_kind(parent) == SPLITS and base in split_names(parent):
        root, train = os.path.dirname(path) or ".", base
    elif kind == SPLITS:
        root, train = path, "train"
    elif kind == SPLIT:
        notes.append(f"data: a split saved with save_to_disk ({path})")
        described = _described({base: load_from_disk(path)}, base, {}, notes)
        described.folders = {base: path}
        return described
    else:
        raise GuessError(
            f"{path}: a folder that datasets' save_to_disk did not write (no dataset_dict.json, or "
            "state.json and dataset_info.json)",
            hint="name a data file in it",
        )
    names = split_names(root)
    if train not in names:
        raise GuessError(
            f"{path} has no {train!r} split (splits: {', '.join(names)})",
            hint=f"name the training split's folder: {os.path.join(root, names[0]) if names else root}",
        )
    notes.append(f"data: a DatasetDict saved with save_to_disk ({root}), splits {', '.join(names)}")
    described = _described({n: load_from_disk(os.path.join(root, n)) for n in names}, train, {}, notes)
    described.folders = {n: os.path.join(root, n) for n in names}
    return described


def _described(splits, train_split: str, source: dict[str, Any], notes: list[str]) -> HubData:
    """What a dataset's splits say: its class columns (ClassLabel features) and their names, and
    which of its other splits are validation and test (one whose labels are all missing is left
    out); the choices go into `notes`."""
    from peftspec.build.tables import class_names_decoded

    train = class_names_decoded(splits[train_split])
    classes = [c for c, t in train.schema.items() if _enum(t) is not None]
    order = {c: _enum(train.schema[c]).categories.to_list() for c in classes}
    roles: dict[str, str] = {}
    for role, names in SPLIT_WORDS.items():
        found = next((name for name in names if name in splits and name != train_split), None)
        if found is None:
            continue
        frame = class_names_decoded(splits[found])
        if classes and all(frame[c].null_count() == frame.height for c in classes if c in frame.columns):
            notes.append(
                f"{role}: the {found!r} split has no labels (all -1), so it is left out; "
                f"`peftspec predict` labels it"
            )
            continue
        roles[role] = found
        notes.append(f"{role}: the dataset's {found!r} split")
    if "validation" not in roles:
        notes.append("validation: the dataset has no validation split; 20% of the training rows are held out")
    if classes:
        notes.append(f"class labels: {', '.join(map(repr, classes))} (the dataset's ClassLabel features)")
    return HubData(source, train_split, train, roles, classes, order)


def _enum(dtype):
    """The Enum of a class column (or of its lists); None for other columns."""
    import polars as pl

    inner = dtype.inner if isinstance(dtype, pl.List) else dtype
    return inner if isinstance(inner, pl.Enum) else None

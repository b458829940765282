"""`peftspec init --data FILE`: the `[dataset]` table a data file asks for, guessed from its values.

What is guessed, and from what:
- how to read it (`guess_columns`): the format from the extension; for CSV/TSV, whether `"`
  quotes (a file whose quotes are literal text reads line for line only without quoting), and
  whether the first row is a header;
- the text: the column of free text with the longest values; a second text for the column pairs
  that name sentence-pair tasks (`premise`/`hypothesis`, `sentence1`/`sentence2`, ...);
- an id: a column named as one (`id`, `ID`, `tweet_id`, ...) whose values are all distinct;
- the labels: two or more 0/1 columns (`one_hot`); else a list column, or one whose cells hold
  several names from a small vocabulary split by `,` `;` `|` or a space (`delimited`); else one
  column of few distinct values, by its name first (`label`, `class`, ...) (`single`); two
  classes of which one is rare, a binary task with the rare one positive and a tuned threshold
  (`guess_labels`);
- validation and test files beside it, named as it is with `train` replaced (`dev`, `valid`,
  `validation`, `val`; `test`), or a workbook's sheets named so;
- `max_length`: the 95th percentile of the texts' length in tokens, counted with `--model`'s
  tokenizer when it loads (a local folder, a package, the Hugging Face cache, or a Hub in reach),
  else estimated at about 4 characters a token.

Every guess is said in a note; the spec is then checked by loading its data as a run would.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from peftspec.build.guess_columns import SAMPLE, SPLIT_WORDS, Column, GuessError, columns_of, read_columns
from peftspec.build.guess_labels import guess_labels, other_labels
from peftspec.spec.dataset import SPLIT_OF

ID_NAMES = {"id", "idx", "uid", "guid", "key"}
PAIRS = [
    ("premise", "hypothesis"),
    ("sentence1", "sentence2"),
    ("sentence_1", "sentence_2"),
    ("question1", "question2"),
    ("question", "sentence"),
    ("question", "answer"),
    ("query", "passage"),
    ("query", "document"),
    ("text_a", "text_b"),
    ("text1", "text2"),
]
LENGTHS = (32, 64, 96, 128, 192, 256, 384, 512)


@dataclass
class Guess:
    dataset: dict[str, Any]
    """The `[dataset]` table, paths relative to the spec's folder."""
    name: str
    task: str
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    """The `[metrics]` table the data asks for, if any (a rare positive class: a tuned threshold)."""

    @property
    def description(self) -> str:
        labels = self.dataset["labels"]
        column = labels.get("column") or f"{len(labels['columns'])} label columns"
        texts = f"{self.dataset['text_column']!r}" + (
            f" and {self.dataset['text_pair_column']!r}" if "text_pair_column" in self.dataset else ""
        )
        kind = self.task.replace("_", "-")
        train = self.dataset["train"]
        source = f"hub:{train['hub']}" if isinstance(train, dict) else os.path.basename(train)
        if not isinstance(train, dict) and not os.path.splitext(source)[1]:  # a saved split's folder
            source = "/".join(train.rstrip("/").split("/")[-2:])
        return f"{kind.capitalize()} classification of {texts} by {column} ({source})."


def starter_from_data(data: str, spec_path: str, model: str | None = None) -> str:
    """The starter spec (commented TOML) for the training file `data`, to be written at `spec_path`."""
    from peftspec.spec.starter import starter_toml

    guess = guess_dataset(data, os.path.dirname(spec_path), model)
    name = os.path.basename(spec_path)
    return starter_toml(guess.dataset, guess.name, model, guess.notes, name, guess.description, guess.metrics)


SMALL_HOLD_OUT = 500
"""Held-out validation rows below which `init` suggests cross-validation (`--folds`)."""


def loaded_summary(spec_path: str) -> tuple[str, str | None]:
    """What a run of the spec at `spec_path` would train on (rows per split, labels, the task), and
    advice when its validation is a small hold-out: one draw of a few hundred rows makes noisy
    figures, and `--folds` validates on every training row once."""
    from peftspec.build.data import load_data
    from peftspec.spec import load_spec

    dataset = load_spec(spec_path).dataset
    bundle = load_data(dataset)
    rows = ", ".join(f"{split.name} {len(split):,}" for split in bundle.splits())
    names = bundle.label_names
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    summary = f"rows: {rows}; {bundle.task.replace('_', '-')}, {len(names)} labels: {shown}"
    held = len(bundle.validation) if bundle.validation is not None else 0
    if not bundle.held_out or held >= SMALL_HOLD_OUT:
        return summary, None
    return summary, (
        f"validation is {held:,} held-out rows, so its figures move with the draw: "
        f"`peftspec run {spec_path} --folds 5` validates on every training row once, in 5 runs"
    )


def guess_dataset(data: str, spec_dir: str, model: str | None = None) -> Guess:
    """The `[dataset]` table for the training file `data` of a spec written in `spec_dir`; `model`:
    the backbone, whose tokenizer counts the texts' tokens for `max_length` if it loads."""
    from peftspec.build.guess_hub import read_hub_data, read_saved_data
    from peftspec.spec.dataset import HUB_REFERENCE, hub_reference

    notes: list[str] = []
    reference = hub_reference(data)
    if reference:
        hub = read_hub_data(reference, notes)
    else:  # a dataset saved with save_to_disk reads as a Hub dataset does
        hub = read_saved_data(data, notes) if os.path.isdir(data) else None
    if hub is None and not os.path.isfile(data):
        raise GuessError(f"{data}: no such data file", hint=f"a Hub dataset is written {HUB_REFERENCE}")
    if hub is None:
        reader, rows, columns = read_columns(data, notes)
    else:
        reader, rows, columns = {}, hub.train.height, columns_of(hub.train)
    divider = None if hub else _split_column(columns)
    columns = [c for c in columns if c is not divider]
    text, pair = _text_columns(columns, data)
    taken = {text.name} | ({pair.name} if pair else set())
    ident = next((c for c in columns if c.name not in taken and _is_id(c, rows)), None)
    if ident:
        taken.add(ident.name)
    candidates = [c for c in columns if c.name not in taken]
    classes = [c for c in candidates if hub and c.name in hub.class_columns]  # the dataset says so
    labels, why, task = guess_labels(classes or candidates, rows, data, hub.order if hub else {})

    def named(split: str) -> str | dict[str, Any]:
        where = hub.location(split)
        return _relative(where, spec_dir) if isinstance(where, str) else where

    dataset: dict[str, Any] = {"train": named(hub.train_split) if hub else _relative(data, spec_dir)}
    if divider is not None:  # one file, its rows' splits in a column
        dataset["split_column"] = divider.name
        said = {SPLIT_OF[value] for value in divider.few}
        notes.append(
            f"splits: the column {divider.name!r} says each row's split ({', '.join(sorted(divider.few))})"
        )
        if "validation" not in said:
            dataset["validation_split"] = 0.2
            notes.append("validation: no row's split says so; 20% of the training rows are held out")
    for role, words in SPLIT_WORDS.items() if divider is None else ():
        if hub is not None:
            if role in hub.splits:
                dataset[role] = named(hub.splits[role])
            elif role == "validation":
                dataset["validation_split"] = 0.2
            continue
        sheets = reader.get("sheet")
        if isinstance(sheets, dict) and role in sheets:  # one workbook, a sheet per split
            dataset[role] = dataset["train"]
            continue
        sibling = _sibling(data, words)
        if sibling:
            dataset[role] = _relative(sibling, spec_dir)
            notes.append(f"{role}: {sibling} (named as the training file, `train` replaced)")
        elif role == "validation":
            dataset["validation_split"] = 0.2
            notes.append("validation: no file found beside it; 20% of the training rows are held out")
    roles = {text.name: "text", pair.name if pair else None: "text_pair", ident.name if ident else None: "id"}
    roles[labels.get("column")] = "labels"
    name = _role_names(reader, roles) if "column_names" in reader else {c.name: c.name for c in columns}
    if reader:
        dataset["reader"] = reader
    dataset["text_column"] = name[text.name]
    notes.append(
        f"text: {name[text.name]!r} (the longest free text, {text.mean_length:.0f} characters on average)"
    )
    if pair:
        dataset["text_pair_column"] = name[pair.name]
        notes.append(f"second text: {name[pair.name]!r} (a sentence-pair task)")
    unused = [
        c
        for c in _free_texts(columns)
        if c.name not in taken | {labels.get("column")}
        and sum(" " in v for v in c.strings) > len(c.strings) / 2
    ]  # sentences, not codes
    if unused and not pair:
        shown = ", ".join(repr(name[c.name]) for c in unused)
        notes.append(f"also free text, unused: {shown} (dataset.text_pair_column reads one as a second text)")
    if ident:
        dataset["id_column"] = name[ident.name]
        notes.append(f"id: {name[ident.name]!r} (every value distinct)")
    dataset["max_length"] = _max_length(text, pair, notes, model)
    others = other_labels(candidates, labels["column"], rows) if "column" in labels else []
    if "column" in labels:
        labels["column"] = name[labels["column"]]
    dataset["labels"] = labels
    notes.append(why.replace("{column}", repr(labels.get("column"))))
    if others:
        shown = ", ".join(repr(name[c]) for c in others)
        notes.append(f"also label-like: {shown} (dataset.labels.column = the one to learn instead)")
    if task == "binary":  # a rare class (`guess_labels.RARE`): decided at a tuned threshold
        dataset["task"] = "binary"
        return Guess(dataset, _name(data), task, notes, metrics={"threshold": "tuned"})
    return Guess(dataset, _name(data), task, notes)


def _split_column(columns: list[Column]) -> Column | None:
    """A column whose every value names a split (`SPLIT_OF`), training and another among them."""
    for column in columns:
        if column.few and column.few <= SPLIT_OF.keys():
            said = {SPLIT_OF[value] for value in column.few}
            if "train" in said and len(said) > 1:
                return column
    return None


def _role_names(reader: dict[str, Any], roles: dict[str | None, str]) -> dict[str, str]:
    """A file without a header row: its columns get the names of their roles (the others keep
    `column_N`); `reader.column_names` says them."""
    names = {old: roles.get(old, old) for old in reader["column_names"]}
    reader["column_names"] = list(names.values())
    return names


def _text_columns(columns: list[Column], data: str) -> tuple[Column, Column | None]:
    by_name = {c.name.lower(): c for c in columns}
    for first, second in PAIRS:
        if first in by_name and second in by_name:
            a, b = by_name[first], by_name[second]
            if not (a.numeric or b.numeric or a.is_list or b.is_list):
                return a, b
    texts = _free_texts(columns)
    if not texts:
        found = ", ".join(repr(c.name) for c in columns)
        raise GuessError(f"{data}: no column holds text (columns: {found})")
    return max(texts, key=lambda c: c.mean_length), None


def _free_texts(columns: list[Column]) -> list[Column]:
    """Columns of text that is not a label, a number or a list: mostly distinct values."""
    return [
        c
        for c in columns
        if c.values and not (c.is_list or c.numeric or c.binary) and c.distinct > max(1, len(c.values) // 2)
    ]


def _is_id(column: Column, rows: int) -> bool:
    """Named as an id, or (a file without a header) short values without spaces; all distinct."""
    name = column.name.lower()
    named = name in ID_NAMES or name.endswith(("_id", "-id")) or column.name.endswith("ID")
    if column.unnamed:
        named = not column.numeric and all(" " not in v and len(v) <= 40 for v in column.strings)
    sampled = len(column.values)  # the first rows (guess_columns.SAMPLE), none of them empty
    return named and not column.is_list and sampled == min(rows, SAMPLE) and column.distinct == sampled


def _max_length(text: Column, pair: Column | None, notes: list[str], model: str | None = None) -> int:
    """The shortest of `LENGTHS` that holds 95% of the texts (both texts, for pairs): tokens
    counted with `model`'s tokenizer when it loads, else characters / 4."""
    counted = _token_lengths(text, pair, model, notes) if model else None
    if counted is not None:
        lengths, tokenizer = counted
        p95 = _p95(lengths)
        limit = tokenizer.model_max_length if 0 < tokenizer.model_max_length < 1_000_000 else LENGTHS[-1]
        chosen = min(next((n for n in LENGTHS if n >= p95), LENGTHS[-1]), limit)
        capped = f"; the model reads at most {limit}" if chosen == limit else ""
        notes.append(
            f"max_length: {chosen} (95% of texts are at most {p95} tokens, counted with {model}'s "
            f"tokenizer on {len(lengths):,} rows{capped})"
        )
        return chosen
    lengths = sorted(len(s) for s in text.strings)
    if pair is not None:
        lengths = sorted(a + b for a, b in zip(lengths, sorted(len(s) for s in pair.strings)))
    p95 = _p95(lengths)
    tokens = p95 // 4 + 2 + (1 if pair is not None else 0)
    chosen = next((n for n in LENGTHS if n >= tokens), LENGTHS[-1])
    notes.append(
        f"max_length: {chosen} (95% of texts are at most {p95} characters, about {tokens} tokens at "
        "4 characters a token; `peftspec run --dry-run` measures what it cuts with the tokenizer)"
    )
    return chosen


def _p95(lengths: list[int]) -> int:
    lengths = sorted(lengths)
    return lengths[min(len(lengths) - 1, math.ceil(0.95 * len(lengths)) - 1)] if lengths else 0


def _token_lengths(text: Column, pair: Column | None, model: str, notes: list[str]):
    """(tokens per row with special tokens, the tokenizer), or None with a note on why not."""
    from peftspec.build.model import build_tokenizer
    from peftspec.spec.backbone import BackboneSpec

    try:
        tokenizer, _ = build_tokenizer(BackboneSpec(model=model))
    except Exception as exc:  # no such model, no network, no tokenizer files: estimate instead
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        notes.append(f"{model}'s tokenizer did not load ({reason}): max_length is estimated from characters")
        return None
    if pair is None:
        encoded = tokenizer(text.strings)
    else:
        rows = min(len(text.strings), len(pair.strings))
        encoded = tokenizer(text.strings[:rows], pair.strings[:rows])
    return [len(ids) for ids in encoded["input_ids"]], tokenizer


def _sibling(train: str, words: tuple[str, ...]) -> str | None:
    folder, base = os.path.split(train)
    match = re.search("train", base, flags=re.IGNORECASE)
    if match is None:
        return None
    for word in words:
        styled = (
            word.upper() if match.group().isupper() else word.title() if match.group().istitle() else word
        )
        candidate = os.path.join(folder, base[: match.start()] + styled + base[match.end() :])
        if os.path.isfile(candidate):
            return candidate
    return None


def _relative(path: str, spec_dir: str) -> str:
    """As the user wrote it: an absolute path stays one; a relative one becomes relative to the spec."""
    if os.path.isabs(path):
        return path
    return os.path.relpath(os.path.abspath(path), os.path.abspath(spec_dir or ".")).replace(os.sep, "/")


def _name(data: str) -> str:
    """The experiment's name: the file's name less `train`, else its folder's."""
    from peftspec.build.compressed import inner

    stem = os.path.splitext(os.path.basename(inner(data)))[0]
    stem = re.sub("train(ing)?", "", stem, flags=re.IGNORECASE).strip("-_. ")
    if not stem:
        stem = os.path.basename(os.path.dirname(os.path.abspath(data)))
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")
    return name or "my-classifier"

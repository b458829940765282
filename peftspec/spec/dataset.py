"""`[dataset]`: where the data is, how to read it, and what the labels look like."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from peftspec.spec.base import Rules, SpecModel, tagged_union
from peftspec.spec.paths import OneOrMany, SpecPath
from peftspec.spec.reader import ReaderOptions

Task = Literal["multi_label", "multi_class", "binary"]
SPLIT_WORDS = {
    "train": ("train", "training"),
    "validation": ("dev", "validation", "valid", "val", "development"),
    "test": ("test", "testing"),
}
"""The names of each split, as a split column's values, a workbook's sheets, or files named as
the training file with `train` replaced say them (case aside)."""
SPLIT_OF = {word: split for split, words in SPLIT_WORDS.items() for word in words}
"""The split each of those names says."""


class HubSource(SpecModel):
    """A dataset on the Hugging Face Hub (or in the local `datasets` cache)."""

    hub: str
    """Dataset id on the Hub, for example `"google-research-datasets/go_emotions"`."""
    split: str = "train"
    """Which split of the hub dataset to read."""
    config: str | None = None
    """Dataset configuration name, for datasets that have several (`"simplified"`)."""
    revision: str | None = None
    """Git revision (branch, tag or commit) of the dataset repository; pin it for reproducibility."""

    @property
    def location(self) -> str:
        """The split as messages and the run record name it (`hub:ID[split]`; `hub_reference` reads it)."""
        return f"{HUB_PREFIX}{self.hub}[{self.split}]"


HUB_PREFIX = "hub:"
HUB_REFERENCE = "hub:ORG/NAME[:CONFIG][[SPLIT]]"
"""How a command names a hub split, as peftspec's messages do (`hub:nyu-mll/glue:sst2[validation]`)."""


def hub_reference(text: str, split: str = "train") -> HubSource | None:
    """`HUB_REFERENCE` as a source (`split` when it names none); None for anything else (a file)."""
    import re

    from peftspec.errors import UsageError

    if not text.startswith(HUB_PREFIX):
        return None
    match = re.fullmatch(
        r"([^:\[\]\s]+)(?::([^\[\]\s]+))?(?:\[([^\[\]]+)\])?", text[len(HUB_PREFIX) :].strip()
    )
    if match is None:
        raise UsageError(
            f"{text}: a hub dataset is written {HUB_REFERENCE}", hint="hub:dair-ai/emotion[test]"
        )
    hub, config, named = match.groups()
    return HubSource(hub=hub, config=config, split=named or split)


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


FileList = Annotated[
    list[Annotated[str, SpecPath()]],
    BeforeValidator(_one_or_many, json_schema_input_type=str | list[str]),
    OneOrMany(),
    Field(min_length=1),
]


def _source_kind(value: object) -> str:
    return "hub-source" if isinstance(value, dict | HubSource) else "file-list"


Source = Annotated[
    Annotated[FileList, Tag("file-list")] | Annotated[HubSource, Tag("hub-source")],
    Discriminator(_source_kind),
]


class OneHotLabels(SpecModel):
    """One 0/1 column per label (SemEval E-c)."""

    format: Literal["one_hot"] = "one_hot"
    """Label shape: one 0/1 column per label (`true`/`false` and `yes`/`no` read as 1/0 too)."""
    columns: list[str] = Field(min_length=1)
    """The label columns, in label order; they also name the labels unless `names` is set."""
    names: list[str] | None = Field(default=None, min_length=1)
    """Display names of the labels, one per column; unset = the column names."""

    def label_names(self) -> list[str]:
        return list(self.names or self.columns)

    @model_validator(mode="after")
    def _rules(self) -> OneHotLabels:
        rules = Rules()
        if self.names is not None and len(self.names) != len(self.columns):
            rules.fail(
                "names",
                f"{len(self.names)} names for {len(self.columns)} label columns; give one name per column",
            )
        _no_repeats(rules, "columns", self.columns)
        _no_repeats(rules, "names", self.names)
        rules.raise_any()
        return self


class DelimitedLabels(SpecModel):
    """One column holding a delimited list of label names or indices (GoEmotions writes `3,10`)."""

    format: Literal["delimited"]
    """Label shape: one column with several labels per row."""
    column: str
    """The column holding the label list."""
    delimiter: str = ","
    """What separates labels inside the column."""
    values: Literal["names", "indices"] = "names"
    """Whether the column holds label names or 0-based indices into `names`."""
    names: list[str] | None = Field(default=None, min_length=1)
    """Label names in index order; needed for `indices` unless `names_file` is given; unset = a
    Hub dataset's class names (`ClassLabel`), else the sorted distinct values of the training data."""
    names_file: Annotated[str, SpecPath()] | None = None
    """A text file with one label name per line, in index order (GoEmotions `labels.txt`)."""

    @model_validator(mode="after")
    def _rules(self) -> DelimitedLabels:
        _check_names(self, "label")
        return self


class SingleLabel(SpecModel):
    """One column holding exactly one class per row (a name, or a 0-based index into `names`)."""

    format: Literal["single"]
    """Label shape: one class per row."""
    column: str
    """The column holding the class."""
    values: Literal["names", "indices"] = "names"
    """Whether the column holds class names or 0-based indices into `names`."""
    names: list[str] | None = Field(default=None, min_length=1)
    """Class names in index order; unset = a Hub dataset's class names (`ClassLabel`), else the
    sorted distinct values of the training data."""
    names_file: Annotated[str, SpecPath()] | None = None
    """A text file with one class name per line, in index order."""

    @model_validator(mode="after")
    def _rules(self) -> SingleLabel:
        _check_names(self, "class")
        return self


def _no_repeats(rules: Rules, key: str, values: list[str] | None) -> None:
    """Two labels of one name would be two outputs no one can tell apart."""
    for i, value in enumerate(values or []):
        if value in (values or [])[:i]:
            rules.fail(
                (key, i),
                f"{value!r} is listed twice in `{key}`; label names must be unique",
                code="duplicate",
            )


def _check_names(labels: DelimitedLabels | SingleLabel, noun: str) -> None:
    """Names come inline or from a file, not both; index values need them; names are unique."""
    rules = Rules()
    _no_repeats(rules, "names", labels.names)
    if labels.names is not None and labels.names_file is not None:
        rules.fail(
            "names_file", f"give {noun} names either inline (`names`) or in a file (`names_file`), not both"
        )
    if labels.values == "indices" and labels.names is None and labels.names_file is None:
        rules.fail("names", "index labels need their names: set `names` or `names_file`", code="missing-key")
    rules.raise_any()


Labels = tagged_union(
    "format", "one_hot", {"one_hot": OneHotLabels, "delimited": DelimitedLabels, "single": SingleLabel}
)


class SplitLimits(SpecModel):
    """Rows to read per split; a split left out is read whole."""

    train: int | None = Field(default=None, ge=1)
    """At most this many training rows."""
    validation: int | None = Field(default=None, ge=1)
    """At most this many validation rows."""
    test: int | None = Field(default=None, ge=1)
    """At most this many test rows."""


def _number_or_table(value: object) -> str:
    return "table" if isinstance(value, dict | SplitLimits) else "number"


Limit = Annotated[
    Annotated[int, Field(ge=1), Tag("number")] | Annotated[SplitLimits, Tag("table")],
    Discriminator(_number_or_table),
]


class DatasetSpec(SpecModel):
    """Training, validation and test data; how to read it; which columns hold text and labels."""

    train: Source
    """Training data: a file, a list of files to concatenate (csv, tsv, jsonl, json, parquet, Excel;
    compressed whole with gzip, bzip2 or xz too; Label Studio's JSON export, a row per task with its
    `data.*` fields and a column per classification control, named by it),
    a split's folder saved by `datasets`' `save_to_disk` (`"data/emotions/train"`), or a hub dataset
    as `{ hub = "id", split = "train" }`. Relative paths are relative to the spec file."""
    validation: Source | None = None
    """Validation data; unset = hold out `validation_split` of the training data."""
    test: Source | None = None
    """Test data, evaluated once after training; unset = no test evaluation."""
    reader: ReaderOptions = Field(default_factory=ReaderOptions)
    """How to read local files (separator, quoting, encoding, header)."""
    text_column: str = "text"
    """The column holding the input text. A field of nested records (JSON objects, Parquet
    structs) is a column named by its path, as every column key may be: `"content.body"`."""
    text_pair_column: str | None = None
    """A second text column for sentence-pair tasks (NLI, paraphrase); unset = single text."""
    id_column: str | None = None
    """A column with a stable row id, kept in predictions; unset = the row number."""
    labels: Labels
    """The label columns and their shape: `one_hot`, `delimited` or `single`."""
    task: Task | None = None
    """`multi_label`, `multi_class` or `binary`; unset = inferred from the label shape. In a binary
    task the second class (in `names` order, or sorted) is the positive one that `f1`, `precision`
    and `recall` score."""
    validation_split: float = Field(default=0.2, gt=0.0, lt=1.0)
    """Fraction of the training rows held out for validation when no validation data (or `folds`)
    is given."""
    stratify: bool = True
    """Hold out `validation_split` of each label's rows (or cut `folds` by label), so every label
    keeps its share on both sides and a rare label is not left out of training (iterative
    stratification, rarest label first; rows without a label count as one more label); false =
    rows drawn at random, as scikit-learn's `train_test_split(test_size=validation_split,
    random_state=split_seed)` (or `KFold(shuffle=True)`) does."""
    duplicates_together: bool = True
    """With `stratify`: rows whose text is the same (compared case-folded with whitespace collapsed;
    both texts of a pair) go to one side of the hold-out, or into one fold, so validation never
    scores a text the model trained on; the held-out share is then met as closely as whole groups
    of copies allow. false = each row is placed on its own, and a text's copies may land on both
    sides (the data check then counts them)."""
    folds: int | None = Field(default=None, ge=2, le=100)
    """k-fold cross-validation: cut the training data into this many folds (each label's rows spread
    evenly over them, or at random with `stratify = false`) and validate on fold `fold`, training on
    the rest, instead of holding out `validation_split`. `peftspec run SPEC --folds K` trains one
    run per fold, recorded as one group (mean ± sd wherever runs are compared)."""
    fold: int = Field(default=0, ge=0)
    """The fold validated on (0-based, below `folds`)."""
    split_seed: int = Field(default=42, ge=0, le=2**32 - 1)
    """Seed of the validation hold-out (which rows are drawn); change it to get another split."""
    max_length: int = Field(default=128, ge=8)
    """Longest input in tokens; longer texts are truncated. Tweets need ~64, paragraphs 512."""
    truncate: Literal["end", "start", "middle"] = "end"
    """Which part of a text longer than `max_length` tokens is cut: `end` keeps its beginning;
    `start` keeps its end (where a review's verdict or a thread's last message is); `middle` keeps
    the first quarter and the last three quarters of the tokens (head and tail: the best of these
    for long IMDb reviews in Sun et al., 2019, "How to Fine-Tune BERT for Text Classification?").
    Text pairs take `end` or `start`. Prediction, evaluation and serving cut the same way."""
    split_column: str | None = None
    """A column saying which split each row of the training data is in, for a file that holds
    them all: `train` (or `training`), `dev` (`validation`, `valid`, `val`, `development`) or
    `test` (`testing`), case aside. Its validation rows validate (none: `validation_split` of its
    training rows is held out) and its test rows test. Unset = every row is training data."""
    limit: Limit | None = None
    """Read at most this many rows of each split (for quick trials), or per split as a table
    (`{ train = 2000, validation = 500 }`); unset = all rows."""

    def limit_for(self, split: str) -> int | None:
        """The row limit of `split` (`train`, `validation` or `test`), if any."""
        if isinstance(self.limit, SplitLimits):
            return getattr(self.limit, split)
        return self.limit

    @model_validator(mode="after")
    def _rules(self) -> DatasetSpec:
        rules = Rules()
        shape = self.labels.format
        if self.task is None:
            self.task = _infer_task(self.labels)
        if self.task == "binary" and shape == "delimited":
            rules.fail(
                "task",
                'a delimited label list holds several labels per row; use task = "multi_label"',
                suggestion="multi_label",
            )
        if self.task in ("multi_class", "binary") and shape == "one_hot" and len(self.labels.columns) < 2:
            rules.fail("labels.columns", "one-hot labels for a single-label task need at least two columns")
        if self.task == "binary":
            names = self.labels.names if shape != "one_hot" else self.labels.label_names()
            if names is not None and len(names) != 2:
                rules.fail("task", f"a binary task has exactly two classes, {len(names)} are named")
        if self.text_pair_column is not None and self.text_pair_column == self.text_column:
            rules.fail("text_pair_column", "the pair column must differ from `text_column`")
        if self.folds is not None and self.fold >= self.folds:
            rules.fail(
                "fold", f"fold {self.fold} does not exist: the {self.folds} folds are 0 to {self.folds - 1}"
            )
        if self.folds is not None and self.validation is not None:
            rules.fail(
                "folds",
                "folds cut the training data into validation folds, and a validation file is given; "
                "remove one of them",
            )
        if self.split_column is not None and (self.validation is not None or self.test is not None):
            given = " and ".join(k for k in ("validation", "test") if getattr(self, k) is not None)
            rules.fail(
                "split_column",
                f"split_column divides the training data into its splits, and {given} data is given too; "
                "remove one of them",
            )
        if self.text_pair_column is not None and self.truncate == "middle":
            rules.fail(
                "truncate",
                "text pairs are cut at the end or the start of the longer text, not the middle",
                suggestion="end",
            )
        rules.raise_any()
        return self


def _infer_task(labels: OneHotLabels | DelimitedLabels | SingleLabel) -> Task:
    if labels.format in ("one_hot", "delimited"):
        return "multi_label"
    names = labels.names
    return "binary" if names is not None and len(names) == 2 else "multi_class"

"""Validation and test rows whose text is also a training row's text; training texts that appear
more than once with different labels.

A model scored on rows it was trained on scores them too well. Scraped and re-shared data sets
often repeat a text across their files (retweets, boilerplate, the same sentence labelled twice).
Such rows are counted before training and reported as a warning with their share. They are not
removed: the data set's published splits stay what they are, and the reader of the figures is
told.

A text labelled two ways in the training data teaches the model both answers, and no model can get
every copy right; it is usually a labelling slip or a merge of two sources. Those are counted too.

Texts are compared after case folding and whitespace collapsing. For a run on text pairs, a row's
key is both of its texts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peftspec.build.problems import DataProblem

if TYPE_CHECKING:
    from peftspec.build.data import Split

SHOWN = 3
"""Row ids named in the warning."""


def _key(text: str, pair: str | None) -> str:
    key = " ".join(text.casefold().split())
    return key if pair is None else key + "\x1f" + " ".join(pair.casefold().split())


def _keys(split: Split) -> list[str]:
    pairs = split.pairs if split.pairs is not None else [None] * len(split)
    return [_key(text, pair) for text, pair in zip(split.texts, pairs)]


def text_groups(split: Split):
    """Each row's group (an int array): rows whose text is the same, as this module compares texts,
    share one; the split keeps a group on one side (`dataset.duplicates_together`)."""
    import numpy as np

    first: dict[str, int] = {}
    return np.array([first.setdefault(key, len(first)) for key in _keys(split)], dtype=np.int64)


def overlap_warnings(train: Split, others: list[tuple[Split, str]], column: str) -> list[DataProblem]:
    """A warning for each split in `others` ((split, where its rows come from)) that shares texts
    with `train`: how many rows, their share, and the first few ids."""
    seen = set(_keys(train))
    problems = []
    for split, where in others:
        hits = [i for i, key in enumerate(_keys(split)) if key in seen]
        if not hits:
            continue
        ids = ", ".join(split.ids[i] for i in hits[:SHOWN]) + (" ..." if len(hits) > SHOWN else "")
        problems.append(
            DataProblem(
                "warning",
                where,
                f"{len(hits):,} of {len(split):,} {split.name} rows ({len(hits) / len(split):.1%}) have "
                f"the text of a training row, so figures on {split.name} are optimistic for them "
                f"(ids {ids}); remove them from one side for figures on unseen text",
                column,
            )
        )
    return problems


def conflict_warnings(train: Split, where: str, column: str) -> list[DataProblem]:
    """A warning when training texts appear more than once with different labels: how many texts,
    how many rows they cover, and the first ids."""
    rows: dict[str, list[int]] = {}
    for i, key in enumerate(_keys(train)):
        rows.setdefault(key, []).append(i)
    conflicts = [
        found
        for found in rows.values()
        if len(found) > 1 and len({train.labels[i].tobytes() for i in found}) > 1
    ]
    if not conflicts:
        return []
    covered = sum(map(len, conflicts))
    ids = ", ".join(" = ".join(train.ids[i] for i in found[:2]) for found in conflicts[:SHOWN])
    more = " ..." if len(conflicts) > SHOWN else ""
    return [
        DataProblem(
            "warning",
            where,
            f"{len(conflicts):,} training text{'s appear' if len(conflicts) > 1 else ' appears'} more "
            "than once with different labels "
            f"({covered:,} rows; ids {ids}{more}): no model can get every copy right; check the "
            "labels, or keep one row per text",
            column,
        )
    ]

"""The validation hold-out keeps every label's share on both sides (`dataset.stratify`, the default),
so a rare class is not left out of training by the split itself."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from peftspec.build.data import load_data
from peftspec.build.stratify import stratified_split
from peftspec.spec import load_spec
from peftspec.spec.loader import check_spec, load_recorded_spec
from peftspec.spec.render import render_spec


def skewed_classes(seed: int, rows: int = 300, classes: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(classes, size=rows, p=rng.dirichlet(np.full(classes, 0.5)))


def emotion_like(rows: int = 7724, seed: int = 0) -> np.ndarray:
    """A multi-label matrix with SemEval E-c's label frequencies (5% to 38%), some rows with none."""
    frequencies = np.array([0.37, 0.14, 0.38, 0.18, 0.36, 0.10, 0.29, 0.12, 0.29, 0.05, 0.05])
    return (np.random.default_rng(seed).random((rows, len(frequencies))) < frequencies).astype(np.float32)


@pytest.mark.parametrize("seed", range(12))
def test_each_class_keeps_its_share_and_a_row_in_training(seed):
    labels = skewed_classes(seed)
    kept, held = stratified_split(labels, 0.2, seed)
    assert len(held) == math.ceil(0.2 * len(labels)) and sorted(kept + held) == list(range(len(labels)))
    assert kept == sorted(kept) and held == sorted(held)  # file order on both sides
    counts = np.bincount(labels, minlength=25)
    in_training = np.bincount(labels[kept], minlength=25)
    assert np.all(in_training[counts > 0] > 0)
    assert np.abs(np.bincount(labels[held], minlength=25) - 0.2 * counts).max() < 2.5


def test_a_random_hold_out_would_leave_classes_out_on_the_same_rows():
    """What the option is for: on these rows the plain random split loses classes from training."""
    lost = 0
    for seed in range(12):
        labels = skewed_classes(seed)
        kept, _ = train_test_split(list(range(len(labels))), test_size=0.2, random_state=seed)
        present, trained = np.bincount(labels, minlength=25) > 0, np.bincount(labels[kept], minlength=25) > 0
        lost += int(np.sum(present & ~trained))
    assert lost > 0


def test_multi_label_shares_within_a_point_where_random_misses_by_more():
    labels = emotion_like()
    labels[:300] = 0  # rows with no emotion at all
    _, held = stratified_split(labels, 0.2, 42)
    _, random_held = train_test_split(list(range(len(labels))), test_size=0.2, random_state=42)
    share = labels[held].sum(axis=0) / labels.sum(axis=0)
    random_share = labels[random_held].sum(axis=0) / labels.sum(axis=0)
    assert np.abs(share - 0.2).max() < 0.01 < np.abs(random_share - 0.2).max()
    assert abs(np.sum(~labels[held].any(axis=1)) / np.sum(~labels.any(axis=1)) - 0.2) < 0.01


def test_a_label_with_one_row_trains_and_unknown_class_rows_are_spread():
    labels = np.array([0] * 10 + [1] * 10 + [2] + [-1] * 10)
    kept, held = stratified_split(labels, 0.3, 0)
    assert 20 in kept
    assert sum(1 for i in held if labels[i] == -1) == 3


def test_the_seed_decides_the_split():
    labels = skewed_classes(0)
    assert stratified_split(labels, 0.2, 7) == stratified_split(labels, 0.2, 7)
    assert stratified_split(labels, 0.2, 7) != stratified_split(labels, 0.2, 8)


def write_classes(tmp_path, seed: int = 3):
    labels = skewed_classes(seed, rows=200, classes=30)
    (tmp_path / "train.csv").write_text(
        "text,label\n" + "".join(f"row {i},c{c}\n" for i, c in enumerate(labels)), encoding="utf-8"
    )


def never_trained(bundle) -> list[str]:
    return [w.message for w in bundle.warnings if "no positive example in the training split" in w.message]


def test_a_run_holds_out_by_label_unless_told_not_to(write_spec, tmp_path):
    write_classes(tmp_path)
    dataset = 'train = "train.csv"\nlabels = { format = "single", column = "label" }'
    spec = load_spec(write_spec(f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\n'))
    bundle = load_data(spec.dataset)
    assert (len(bundle.train), len(bundle.validation)) == (160, 40) and not never_trained(bundle)
    plain = load_data(spec.dataset.model_copy(update={"stratify": False}))
    assert never_trained(plain), "the random split on these rows should leave a class untrained"
    _, held = train_test_split(list(range(200)), test_size=0.2, random_state=42)
    assert plain.validation.ids == [f"train.csv:{i + 1}" for i in held]


def test_a_run_recorded_before_the_option_resumes_with_the_random_split(write_spec, tmp_path):
    dataset = 'train = "t.csv"\nlabels = { format = "single", column = "label" }'
    spec = load_spec(write_spec(f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\n'))
    recorded = tmp_path / "recorded.toml"
    recorded.write_text(render_spec(spec), encoding="utf-8")
    assert load_recorded_spec(recorded).dataset.stratify is True
    older = "".join(line for line in render_spec(spec).splitlines(True) if not line.startswith("stratify"))
    recorded.write_text(older, encoding="utf-8")
    assert load_recorded_spec(recorded).dataset.stratify is False


def test_lint_says_stratify_is_ignored_beside_a_validation_file(write_spec):
    path = write_spec(
        'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "t.csv"\nvalidation = "v.csv"\n'
        'stratify = false\nlabels = { format = "single", column = "label" }\n'
    )
    found = [(d.code, d.path) for d in check_spec(path).warnings]
    assert ("ignored-key", "dataset.stratify") in found


def test_the_plan_says_how_validation_was_held_out(write_spec):
    from rich.console import Console

    from peftspec.build.overview import held_out_line, render_overview
    from peftspec.runs.record import Overview

    dataset = 'train = "t.csv"\nvalidation_split = 0.125\nlabels = { format = "single", column = "label" }'
    spec = load_spec(write_spec(f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\n'))
    assert held_out_line(spec.dataset) == (
        "12.5% of the training rows, by label, copies of a text together (split_seed 42)"
    )
    apart = spec.dataset.model_copy(update={"duplicates_together": False})
    assert held_out_line(apart) == "12.5% of the training rows, by label (split_seed 42)"
    plain = spec.dataset.model_copy(update={"stratify": False, "split_seed": 3})
    assert held_out_line(plain) == "12.5% of the training rows, at random (split_seed 3)"
    given = spec.dataset.model_copy(update={"validation": spec.dataset.train})
    assert held_out_line(given) is None
    console = Console(width=120, record=True)
    counts = {"rows": {"train": 7}, "trainable_parameters": 1, "total_parameters": 2}
    counts |= {"steps_per_epoch": 1, "total_steps": 1, "effective_batch": 1}
    console.print(render_overview(Overview(**counts, held_out=held_out_line(spec.dataset))))
    console.print(render_overview(Overview(**counts)))
    assert console.export_text().count("held out") == 1


def test_folds_are_equal_and_each_holds_its_share_of_every_class():
    from peftspec.build.stratify import stratified_folds

    labels = skewed_classes(4)
    folds = stratified_folds(labels, 5, 4)
    assert sorted(np.bincount(folds)) == [60] * 5
    per_fold = np.array([np.bincount(labels[folds == k], minlength=25) for k in range(5)])
    assert np.abs(per_fold - np.bincount(labels, minlength=25) / 5).max() < 1.0
    multi = emotion_like(1000)
    folds = stratified_folds(multi, 4, 0)
    per_fold = np.array([multi[folds == k].sum(axis=0) for k in range(4)])
    assert sorted(np.bincount(folds)) == [250] * 4
    assert np.abs(per_fold / multi.sum(axis=0) - 0.25).max() < 0.03  # each label's share, per fold
    rare = multi.sum(axis=0) < 60
    assert np.abs(per_fold[:, rare] - multi[:, rare].sum(axis=0) / 4).max() < 1.5  # rows, rare labels


@pytest.mark.parametrize("stratify", [True, False])
def test_each_fold_is_validated_on_once(write_spec, tmp_path, stratify):
    write_classes(tmp_path)
    dataset = f'train = "train.csv"\nfolds = 4\nstratify = {str(stratify).lower()}\n'
    dataset += 'labels = { format = "single", column = "label" }'
    spec = load_spec(write_spec(f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\n'))
    seen = []
    for fold in range(4):
        bundle = load_data(spec.dataset.model_copy(update={"fold": fold}))
        assert len(bundle.train) + len(bundle.validation) == 200 and len(bundle.validation) == 50
        assert set(bundle.train.ids).isdisjoint(bundle.validation.ids)
        seen += bundle.validation.ids
    assert sorted(seen) == sorted(f"train.csv:{i}" for i in range(1, 201))
    from peftspec.build.overview import held_out_line

    how = "by label, copies of a text together" if stratify else "at random"
    assert held_out_line(spec.dataset) == f"fold 0 of folds 0-3, cut {how} (split_seed 42)"


@pytest.mark.parametrize(
    ("extra", "path", "says"),
    [
        ("folds = 3\nfold = 3", "dataset.fold", "the 3 folds are 0 to 2"),
        ('folds = 3\nvalidation = "v.csv"', "dataset.folds", "remove one of them"),
    ],
)
def test_a_fold_that_does_not_exist_or_folds_beside_a_validation_file_are_errors(
    write_spec, extra, path, says
):
    from peftspec.spec.diagnostics import SpecError

    text = f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "t.csv"\n{extra}\n'
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text + 'labels = { format = "single", column = "label" }\n'))
    assert [(d.path, says in d.message) for d in info.value.diagnostics] == [(path, True)]


def test_lint_says_which_fold_keys_are_ignored(write_spec):
    head = 'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "t.csv"\n'
    labels = 'labels = { format = "single", column = "label" }\n'
    with_folds = write_spec(f"{head}folds = 3\nvalidation_split = 0.1\n{labels}", "a.toml")
    without = write_spec(f"{head}fold = 1\n{labels}", "b.toml")
    found = [
        (d.code, d.path)
        for d in check_spec(with_folds).warnings + check_spec(without).warnings
        if d.code == "ignored-key"
    ]
    assert found == [("ignored-key", "dataset.validation_split"), ("ignored-key", "dataset.fold")]


def test_copies_of_a_text_stay_on_one_side_and_rows_without_copies_split_as_before():
    """Groups (the copies of one text) are never cut; labels keep their shares and the sizes
    stay near; where every group is one row, the split is the row split, row for row."""
    from peftspec.build.stratify import stratified_folds

    rng = np.random.default_rng(1)
    worst = 0.0
    for trial in range(60):
        rows = int(rng.integers(40, 400))
        groups = rng.integers(0, int(rows * rng.uniform(0.4, 0.9)), rows)
        labels = rng.integers(0, 6, int(groups.max()) + 1)[groups]
        _, held = stratified_split(labels, 0.2, trial, groups)
        side = np.zeros(rows, dtype=int)
        side[held] = 1
        for label in np.unique(labels):  # each label near its share, as whole groups allow
            if (labels == label).sum() >= 40:
                assert 0.1 <= side[labels == label].mean() <= 0.3, (trial, label)
        assert all(len(set(side[groups == g])) == 1 for g in np.unique(groups)), trial
        worst = max(worst, abs(len(held) - math.ceil(0.2 * rows)) / math.ceil(0.2 * rows))
        folds = stratified_folds(labels, 4, trial, groups)
        assert all(len(set(folds[groups == g])) == 1 for g in np.unique(groups)), trial
        alone = np.arange(rows)
        assert stratified_split(labels, 0.2, trial, alone) == stratified_split(labels, 0.2, trial)
        assert (stratified_folds(labels, 4, trial, alone) == stratified_folds(labels, 4, trial)).all()
    assert worst <= 0.1, worst


def test_a_hold_out_keeps_copies_of_a_text_together_unless_told_not_to(write_spec, tmp_path):
    """Templated data repeats texts: by default no validation row has a training row's text (the
    data check says nothing); `duplicates_together = false` places rows alone and the check counts
    the copies that landed on both sides. A run recorded before the key resumes placing rows alone."""
    rng = np.random.default_rng(0)
    texts = [
        f"the film was {w} and {v}" for w in ("good", "bad", "fine", "odd") for v in ("long", "short", "loud")
    ]
    rows = [
        (texts[i % len(texts)] if i < 180 else f"unique text {i}", "pos" if rng.random() < 0.5 else "neg")
        for i in range(240)
    ]
    (tmp_path / "train.csv").write_text(
        "text,label\n" + "".join(f"{t},{y}\n" for t, y in rows), encoding="utf-8"
    )
    dataset = 'train = "train.csv"\nlabels = { format = "single", column = "label" }'
    spec = load_spec(write_spec(f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\n'))
    together = load_data(spec.dataset)
    assert set(together.train.texts).isdisjoint(together.validation.texts)
    assert not [w for w in together.warnings if "have the text of a training row" in w.message]
    assert abs(len(together.validation) - 48) <= 15  # 20% of 240, as near as groups of 15 allow
    apart = load_data(spec.dataset.model_copy(update={"duplicates_together": False}))
    assert len(apart.validation) == 48
    assert [w for w in apart.warnings if "have the text of a training row" in w.message]
    recorded = tmp_path / "recorded.toml"
    older = "".join(
        line for line in render_spec(spec).splitlines(True) if not line.startswith("duplicates_together")
    )
    recorded.write_text(older, encoding="utf-8")
    assert load_recorded_spec(recorded).dataset.duplicates_together is False


def test_lint_says_duplicates_together_is_ignored_where_no_split_keeps_them(write_spec):
    labels = 'labels = { format = "single", column = "label" }\n'
    given = write_spec(
        'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "t.csv"\nvalidation = "v.csv"\n'
        f"duplicates_together = false\n{labels}"
    )
    assert ("ignored-key", "dataset.duplicates_together") in [
        (d.code, d.path) for d in check_spec(given).warnings
    ]
    random = write_spec(
        'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "t.csv"\nstratify = false\n'
        f"duplicates_together = true\n{labels}"
    )
    found = [(d.code, d.path, d.message) for d in check_spec(random).warnings]
    assert any(c == "ignored-key" and "stratify = false" in m for c, _, m in found), found

"""A binary task decided at a threshold on its positive class's probability: fixed, or tuned on
validation for F1 (F1 macro, accuracy), cross-fitted where it was tuned, and applied by everything
that labels text afterwards (`evaluate`, `predict`, `export`)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from sklearn import metrics as skm

from peftspec.metrics.crossfit import crossfit_decisions
from peftspec.metrics.registry import compute
from peftspec.metrics.scoring import decide
from peftspec.metrics.tuning import tune_binary


def probabilities(rng, gold: np.ndarray) -> np.ndarray:
    """Softmax-like (rows, 2) scores whose positive column ranks positives a little higher, below 0.5
    for most of them: the arg-max misses most positives."""
    positive = np.clip(0.15 + 0.25 * gold + rng.normal(0, 0.12, len(gold)), 0.001, 0.999)
    return np.stack([1 - positive, positive], axis=1)


@pytest.mark.parametrize("objective", ["f1", "f1_macro", "accuracy"])
def test_the_tuned_threshold_is_the_best_cut_by_brute_force(objective):
    rng = np.random.default_rng(0)
    gold = (rng.random(400) < 0.12).astype(int)
    scores = probabilities(rng, gold)
    tuning = tune_binary(scores, gold, objective)
    (cut,) = tuning.values
    metric = {"f1": skm.f1_score, "accuracy": skm.accuracy_score}.get(objective)

    def value(t: float) -> float:
        pred = (scores[:, 1] >= t).astype(int)
        if metric is not None:
            return metric(gold, pred)
        return skm.f1_score(gold, pred, average="macro", zero_division=0)

    best = max(value(t) for t in np.unique(scores[:, 1]))
    assert value(cut) == pytest.approx(best) == pytest.approx(tuning.score)
    assert value(cut) > value(0.5)  # the arg-max misses most positives
    assert decide(scores, "binary", tuning.values).tolist() == (scores[:, 1] >= cut).astype(int).tolist()
    assert decide(scores, "binary", None).tolist() == scores.argmax(1).tolist()


def test_no_positive_row_keeps_the_argmax_and_says_why():
    tuning = tune_binary(np.full((5, 2), 0.5), np.zeros(5, dtype=int), "f1")
    assert tuning.values.tolist() == [0.5] and "no positive example" in tuning.untuned[0]


def test_cross_fitted_decisions_tune_on_the_other_half():
    rng = np.random.default_rng(1)
    gold = (rng.random(300) < 0.2).astype(int)
    scores = probabilities(rng, gold)
    decided = crossfit_decisions(scores, gold, "f1", task="binary")
    assert decided.shape == gold.shape and set(decided.tolist()) <= {0, 1}
    tuned_here = decide(scores, "binary", tune_binary(scores, gold, "f1").values)
    names = ["neg", "pos"]
    optimistic = compute(["f1"], "binary", gold, tuned_here, names)["f1"]
    assert compute(["f1"], "binary", gold, decided, names)["f1"] <= optimistic + 1e-9


def test_the_spec_takes_a_binary_threshold_and_says_what_a_multi_class_one_needs(write_spec):
    from peftspec.spec import SpecError, load_spec

    base = (
        'name = "b"\n[dataset]\ntrain = "t.csv"\ntask = "{task}"\nlabels.format = "single"\n'
        'labels.column = "label"\nlabels.names = {names}\n[backbone]\nmodel = "m"\n[metrics]\n{metrics}\n'
    )
    spec = load_spec(
        write_spec(base.format(task="binary", names='["ham", "spam"]', metrics='threshold = "tuned"'))
    )
    assert spec.metrics.tune_for == "f1"
    with pytest.raises(SpecError) as info:
        load_spec(
            write_spec(
                base.format(
                    task="binary", names='["ham", "spam"]', metrics='threshold = "tuned"\ntune_for = "recall"'
                )
            )
        )
    assert "choose one of f1, f1_macro, accuracy" in info.value.errors[0].message
    with pytest.raises(SpecError) as info:
        load_spec(
            write_spec(
                base.format(task="multi_class", names='["a", "b", "c"]', metrics='threshold = "tuned"')
            )
        )
    assert 'set dataset.task = "binary"' in info.value.errors[0].message


def test_a_multi_class_threshold_is_ignored_with_a_lint_warning(tmp_path):
    from tests.helpers.cli import peftspec

    (tmp_path / "m.toml").write_text(
        'name = "m"\n[dataset]\ntrain = "t.csv"\nlabels.format = "single"\nlabels.column = "label"\n'
        '[backbone]\nmodel = "m"\n[metrics]\nthreshold = 0.3\n'
    )
    proc = peftspec(tmp_path, "lint", "m.toml")
    assert "warning[ignored-key] metrics.threshold: threshold is ignored" in proc.stdout


def test_a_tuned_binary_run_decides_at_its_threshold_everywhere(tmp_path):
    """Imbalanced data (one row in eight positive) trained briefly: the arg-max rarely predicts the
    positive class; the tuned threshold does, and evaluate, predict and export apply the same one."""
    from peftspec.runs import read_run, run_dirs
    from tests.helpers.cli import peftspec
    from tests.helpers.tiny import make_backbone

    make_backbone("bert", tmp_path / "bert")
    rng = random.Random(0)
    lines = ["text,label"]
    for i in range(240):
        spam = i % 8 == 0
        words = ["win", "prize", "now"] if spam else ["lunch", "today", "see"]
        lines.append(" ".join(rng.choice(words) for _ in range(5)) + f" {i},{'spam' if spam else 'ham'}")
    (tmp_path / "train.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "spec.toml").write_text(
        'name = "spam"\n[dataset]\ntrain = "train.csv"\ntask = "binary"\nmax_length = 16\n'
        'labels.format = "single"\nlabels.column = "label"\n[backbone]\nmodel = "./bert"\n'
        '[adapter]\nkind = "lora"\nr = 4\ntarget_modules = ["query", "value"]\n'
        '[trainer]\nepochs = 1\nbatch_size = 16\nlearning_rate = 1e-3\n[metrics]\nthreshold = "tuned"\n'
    )
    proc = peftspec(tmp_path, "run", "spec.toml")
    assert proc.returncode == 0, proc.stderr
    (path,) = run_dirs(tmp_path / "runs")
    run = read_run(path)
    used = run.thresholds_used()
    assert used["mode"] == "tuned" and used["tuned_for"] == "f1" and list(used["values"]) == ["spam"]
    assert used["scope"] == "positive_class"
    cut = used["values"]["spam"]
    frame = run.split_predictions("validation")
    scores = np.asarray(frame["scores"].to_list())
    assert frame["predicted"].to_list() == (scores[:, 1] >= cut).astype(int).tolist()
    assert frame["predicted"].to_list() != scores.argmax(1).tolist()  # the threshold decided rows
    assert "on the positive class" in run.threshold_protocol()
    texts = frame["text"].to_list()
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    predicted = peftspec(tmp_path, "predict", str(path), "in.txt")
    assert predicted.returncode == 0, predicted.stderr
    labels = [json.loads(line)["predicted"] for line in predicted.stdout.splitlines()]
    assert labels == frame["predicted_labels"].list.first().to_list()  # the run's own decisions
    exported = peftspec(tmp_path, "export", str(path), "-o", str(tmp_path / "merged"), "--merge")
    assert exported.returncode == 0, exported.stderr
    config = json.loads((tmp_path / "merged" / "config.json").read_text())
    assert config["decision_thresholds"] == {"spam": cut} and "['spam'] >=" in config["decision_rule"]


def test_captions_say_that_a_binary_tasks_at_half_column_is_its_argmax():
    from peftspec.report.columns import caption

    rows = [
        {
            "split": "test",
            "thresholds": "tuned",
            "thresholds_tuned_on": "validation",
            "scored_on": "binary, 2 labels",
        }
    ]
    assert "threshold 0.5 (a binary task: its arg-max)." in caption(rows)
    rows[0]["scored_on"] = "multi_label, 11 labels"
    assert caption(rows).endswith("score every label at threshold 0.5.")


@pytest.mark.parametrize(
    ("task", "threshold", "tune_for", "expected"),
    [
        ("multi_label", 0.5, None, "every label at threshold 0.5"),
        (
            "multi_label",
            "tuned",
            "f1_macro",
            "a threshold per label (each for its own F1), tuned on validation for f1_macro",
        ),
        (
            "multi_label",
            "tuned",
            "jaccard",
            "a threshold per label (searched jointly), tuned on validation for jaccard",
        ),
        ("binary", "tuned", "f1", "'spam' at a threshold on its probability, tuned on validation for f1"),
        ("binary", 0.3, None, "'spam' when its probability is at least 0.3"),
        ("binary", 0.5, None, "the class of highest probability (arg-max)"),
        ("multi_class", 0.5, None, "the class of highest probability (arg-max)"),
    ],
)
def test_the_plan_says_how_the_run_will_decide(task, threshold, tune_for, expected):
    from types import SimpleNamespace

    from peftspec.build.overview import decisions_line

    line = decisions_line(
        SimpleNamespace(threshold=threshold, tune_for=tune_for, calibration="none"), task, ["ham", "spam"]
    )
    assert line.startswith(expected)


def test_evaluations_during_training_decide_at_the_specs_fixed_threshold(write_spec):
    """The best checkpoint is chosen on the decisions the run reports: a fixed threshold applies
    from the first evaluation; tuned thresholds exist only after training (0.5 until then)."""
    from types import SimpleNamespace

    from peftspec.build.compiled import training_threshold
    from peftspec.metrics.computer import MetricComputer
    from peftspec.spec import load_spec

    base = (
        'name = "b"\n[dataset]\ntrain = "t.csv"\ntask = "binary"\nlabels.format = "single"\n'
        'labels.column = "label"\nlabels.names = ["ham", "spam"]\n[backbone]\nmodel = "m"\n[metrics]\n'
    )
    for threshold, expected in (("0.3", 0.3), ("0.5", None), ('"tuned"', None)):
        spec = load_spec(write_spec(base + f"threshold = {threshold}\n"))
        assert training_threshold(spec, "binary") == expected
    probability = np.array([0.35, 0.2, 0.6, 0.1])  # of spam; gold: spam, ham, spam, ham
    logits = np.log(np.stack([1 - probability, probability], axis=1))
    computer = MetricComputer(["recall"], "binary", ["ham", "spam"], 0.3)
    assert computer(SimpleNamespace(predictions=logits, label_ids=np.array([1, 0, 1, 0])))["recall"] == 1.0
    argmax = MetricComputer(["recall"], "binary", ["ham", "spam"], None)
    assert argmax(SimpleNamespace(predictions=logits, label_ids=np.array([1, 0, 1, 0])))["recall"] == 0.5


@pytest.mark.parametrize(
    ("recorded", "how"),
    [
        ({"scope": "positive_class", "method": "per-label F1"}, "on the positive class"),  # scope wins
        ({"scope": "jointly", "method": "per-label F1"}, "jointly"),
        ({"method": "searched jointly (coordinate ascent)"}, "jointly"),  # recorded before `scope`
        ({"method": "on the positive class's score"}, "on the positive class"),
        ({"scope": "somehow", "method": "per-label F1"}, "per label"),  # unknown: the wording
    ],
)
def test_the_recorded_scope_says_how_thresholds_were_tuned(recorded, how):
    from peftspec.runs.reader import threshold_protocol

    thresholds = {"mode": "tuned", "tuned_for": "f1", **recorded}
    assert threshold_protocol(thresholds) == f"tuned {how} on validation for f1"

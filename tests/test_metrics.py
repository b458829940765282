"""Metrics agree with scikit-learn; thresholds are tuned per label; prediction keeps row order."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from peftspec.metrics.registry import compute
from peftspec.metrics.scoring import confusion, decide, scores_from_logits
from peftspec.metrics.tuning import tune_thresholds

LABELS = ["a", "b", "c"]


@pytest.fixture
def multilabel():
    rng = np.random.default_rng(0)
    gold = (rng.random((200, 3)) < [0.5, 0.2, 0.05]).astype(int)
    scores = np.clip(gold * 0.4 + rng.random((200, 3)) * 0.6, 0, 1)
    return gold, scores


def test_multilabel_metrics_match_sklearn(multilabel):
    gold, scores = multilabel
    pred = decide(scores, "multi_label", 0.5)
    got = compute(
        ["f1_micro", "f1_macro", "f1_weighted", "subset_accuracy", "jaccard", "hamming_loss"],
        "multi_label",
        gold,
        pred,
        LABELS,
    )
    assert got["f1_micro"] == pytest.approx(skm.f1_score(gold, pred, average="micro"))
    assert got["f1_macro"] == pytest.approx(skm.f1_score(gold, pred, average="macro", zero_division=0))
    assert got["subset_accuracy"] == pytest.approx(skm.accuracy_score(gold, pred))
    assert got["hamming_loss"] == pytest.approx(skm.hamming_loss(gold, pred))


def test_jaccard_is_the_semeval_score():
    gold = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]])
    pred = np.array([[1, 1, 0], [0, 0, 0], [0, 1, 0]])
    # per tweet: 1/3, empty-vs-empty counts as 1, exact 1
    assert compute(["jaccard"], "multi_label", gold, pred, LABELS)["jaccard"] == pytest.approx(
        (1 / 3 + 1 + 1) / 3
    )


def test_per_label_and_confusion(multilabel):
    gold, scores = multilabel
    pred = decide(scores, "multi_label", 0.5)
    table = compute(["per_label"], "multi_label", gold, pred, LABELS)["per_label"]
    assert table["b"]["support"] == int(gold[:, 1].sum())
    matrices = confusion("multi_label", gold, pred, LABELS)["matrices"]
    (tn, fp), (fn, tp) = matrices["a"]
    assert tp == int(((gold[:, 0] == 1) & (pred[:, 0] == 1)).sum()) and tn + fp + fn + tp == 200


def test_multiclass_and_binary():
    gold = np.array([0, 1, 2, 2, 1, 0])
    logits = np.eye(3)[[0, 1, 2, 1, 1, 2]] * 3
    pred = decide(scores_from_logits(logits, "multi_class"), "multi_class")
    got = compute(["accuracy", "f1_macro"], "multi_class", gold, pred, LABELS)
    assert got["accuracy"] == pytest.approx(4 / 6)
    assert confusion("multi_class", gold, pred, LABELS)["matrix"] == skm.confusion_matrix(gold, pred).tolist()
    binary = compute(
        ["f1", "precision"], "binary", np.array([0, 1, 1, 0]), np.array([0, 1, 0, 1]), ["n", "p"]
    )
    assert binary == {"f1": 0.5, "precision": 0.5}


def test_ranking_metrics_are_scikit_learns_on_the_scores_and_ignore_the_thresholds(multilabel):
    gold, scores = multilabel
    names = ["roc_auc", "average_precision"]
    got = compute(names, "multi_label", gold, decide(scores, "multi_label", 0.5), LABELS, scores)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(gold, scores, average="macro"))
    assert got["average_precision"] == pytest.approx(
        skm.average_precision_score(gold, scores, average="macro")
    )
    assert compute(names, "multi_label", gold, decide(scores, "multi_label", 0.9), LABELS, scores) == got
    assert compute(names, "multi_label", gold, gold, LABELS) == {}  # decisions alone: not computed
    # a label that never occurs in the split has no ROC curve: the mean is over the others
    absent = gold.copy()
    absent[:, 2] = 0
    expected = np.mean([skm.roc_auc_score(absent[:, j], scores[:, j]) for j in range(2)])
    assert compute(["roc_auc"], "multi_label", absent, absent, LABELS, scores)["roc_auc"] == pytest.approx(
        expected
    )
    diverged = scores.copy()
    diverged[0, 0] = np.nan  # what a model whose weights overflowed scores: a figure, not a crash
    assert all(np.isnan(v) for v in compute(names, "multi_label", gold, gold, LABELS, diverged).values())
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 3, 300)
    probs = scores_from_logits(np.eye(3)[classes] * 1.5 + rng.normal(size=(300, 3)), "multi_class")
    got = compute(names, "multi_class", classes, probs.argmax(1), LABELS, probs)
    assert got["roc_auc"] == pytest.approx(
        skm.roc_auc_score(classes, probs, multi_class="ovr", average="macro")
    )
    positive = classes == 1
    two = np.stack([1 - probs[:, 1], probs[:, 1]], axis=1)
    got = compute(names, "binary", positive.astype(int), two.argmax(1), ["n", "p"], two)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(positive, probs[:, 1]))
    assert got["average_precision"] == pytest.approx(skm.average_precision_score(positive, probs[:, 1]))


def test_tuned_thresholds_never_lower_per_label_f1(multilabel):
    gold, scores = multilabel
    cut = tune_thresholds(scores, gold).values
    for j in range(3):
        at_half = skm.f1_score(gold[:, j], scores[:, j] >= 0.5, zero_division=0)
        tuned = skm.f1_score(gold[:, j], scores[:, j] >= cut[j], zero_division=0)
        assert tuned >= at_half
        assert scores[:, j].min() <= cut[j] <= scores[:, j].max()


def test_thresholds_reach_labels_whose_scores_stay_below_the_old_grid():
    """A rare label scored under 0.05 everywhere is tuned to its best F1 over the scores it takes; a
    label with no positive row is not tuned, and says why."""
    rng = np.random.default_rng(1)
    gold = (rng.random((300, 3)) < [0.3, 0.05, 0.0]).astype(int)
    scores = np.clip(gold * 0.4 + rng.random((300, 3)) * 0.6, 0, 1)
    scores[:, 1] *= 0.04  # never reaches 0.05
    tuning = tune_thresholds(scores, gold)
    for j in (0, 1):
        optimum = max(skm.f1_score(gold[:, j], scores[:, j] >= c, zero_division=0) for c in scores[:, j])
        assert skm.f1_score(gold[:, j], scores[:, j] >= tuning.values[j], zero_division=0) == optimum
    assert tuning.values[1] < 0.05 and optimum > 0.5
    assert tuning.values[2] == 0.5 and list(tuning.untuned) == [2] and "no positive" in tuning.untuned[2]


def test_tied_thresholds_go_to_the_one_closest_to_half():
    gold = np.array([[1], [0], [0], [1]])
    scores = np.array([[0.9], [0.8], [0.3], [0.2]])  # top 1 (cut 0.85) and all 4 (cut 0.2): F1 2/3
    assert tune_thresholds(scores, gold).values[0] == 0.2


def test_prediction_restores_row_order():
    torch = pytest.importorskip("torch")
    from peftspec.build.predict import predict

    class Echo(torch.nn.Module):
        """Logit = the number of real tokens, so order mistakes show."""

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, input_ids, attention_mask):
            return type("Out", (), {"logits": attention_mask.sum(1, keepdim=True).float() + self.w})()

    rows = [{"input_ids": [1] * n, "labels": [0.0]} for n in (3, 9, 1, 5, 7)]

    class Data(list):
        def __getitem__(self, key):
            return [r[key] for r in self] if isinstance(key, str) else list.__getitem__(self, key)

    def collate(batch):
        width = max(len(r["input_ids"]) for r in batch)
        ids = torch.tensor([r["input_ids"] + [0] * (width - len(r["input_ids"])) for r in batch])
        mask = torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in batch])
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "labels": torch.tensor([r["labels"] for r in batch]),
        }

    out = predict(Echo(), Data(rows), collate, batch_size=2, task="multi_label")
    assert out.logits[:, 0].tolist() == [3, 9, 1, 5, 7]

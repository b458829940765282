"""`trainer.class_weights`: balanced weights from the training labels, the weighted loss against the
model's own, recorded in the run and shown in the plan; unknown labels are located errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from peftspec.build.class_weights import class_weights, weighted_loss
from peftspec.runs import read_run, run_dirs
from tests.helpers.cli import peftspec
from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec


def test_balanced_weights_follow_the_training_labels():
    multi = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]])  # 3, 1 and 0 positives of 4
    assert class_weights("balanced", "multi_label", ["a", "b", "c"], multi) == [1 / 3, 3.0, 1.0]
    single = np.array([0, 0, 0, 1, 2, 2])
    assert class_weights("balanced", "multi_class", ["a", "b", "c"], single) == pytest.approx(
        [2 / 3, 2.0, 1.0]
    )
    assert class_weights({"b": 4.0}, "multi_class", ["a", "b", "c"], single) == [1.0, 4.0, 1.0]
    assert class_weights("none", "multi_class", ["a", "b", "c"], single) is None


@pytest.mark.parametrize("task", ["multi_label", "multi_class"])
def test_the_weighted_loss_is_the_models_own_at_weight_one_and_weighs_otherwise(task):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    problem = "multi_label_classification" if task == "multi_label" else "single_label_classification"
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
    )
    config.problem_type = problem
    model = BertForSequenceClassification(config).eval()
    ids = torch.randint(0, 50, (6, 7))
    labels = torch.randint(0, 2, (6, 3)).float() if task == "multi_label" else torch.randint(0, 3, (6,))
    outputs = model(input_ids=ids, labels=labels)
    assert weighted_loss([1.0, 1.0, 1.0], task)(outputs, labels).item() == pytest.approx(
        outputs.loss.item(), rel=1e-6
    )
    heavy = weighted_loss([1.0, 5.0, 1.0], task)(outputs, labels).item()
    if task == "multi_label":
        logits = outputs.logits.float()
        by_hand = -(5.0 ** (torch.arange(3) == 1).float() * labels * torch.nn.functional.logsigmoid(logits))
        by_hand = by_hand - (1 - labels) * torch.nn.functional.logsigmoid(-logits)
        assert heavy == pytest.approx(by_hand.mean().item(), rel=1e-5)
    else:
        per_row = torch.nn.functional.cross_entropy(outputs.logits, labels, reduction="none")
        weights = torch.tensor([1.0, 5.0, 1.0])[labels]
        assert heavy == pytest.approx((per_row * weights).mean().item(), rel=1e-5)
    # under gradient accumulation the Trainer passes the items of the whole accumulated batch
    items = labels.numel() * 2
    summed = weighted_loss([1.0, 1.0, 1.0], task)(outputs, labels, num_items_in_batch=items)
    assert summed.item() == pytest.approx(outputs.loss.item() / 2, rel=1e-6)


def test_a_run_with_balanced_weights_records_them_and_unknown_labels_are_refused(tmp_path):
    root = make_tiny_workspace(tmp_path)
    trainer = 'epochs = 1\nbatch_size = 16\nlearning_rate = 5e-3\nclass_weights = "balanced"\n'
    write_tiny_lora_spec(root, "w", dropout=0.0, trainer=trainer)
    proc = peftspec(root, "run", "w.toml")
    assert proc.returncode == 0, proc.stderr
    assert (
        "class weights" in proc.stdout
        and "balanced from the training labels (pos_weight of BCE)" in proc.stdout
    )
    run = read_run(run_dirs(root / "runs-w")[0])
    assert run.record.overview.class_weights.startswith("balanced from the training labels")
    assert 'class_weights = "balanced"' in run.paths.spec.read_text()  # the run's spec keeps the setting
    spec = root / "w.toml"
    spec.write_text(spec.read_text().replace('class_weights = "balanced"', "class_weights = { jy = 2.0 }"))
    lint = peftspec(root, "lint", "w.toml")
    assert lint.returncode == 1 and "w.toml:18:24" in lint.stdout and "did you mean 'joy'" in lint.stdout
    before = len(run_dirs(root / "runs-w"))
    assert peftspec(root, "run", "w.toml").returncode == 1
    assert len(run_dirs(root / "runs-w")) == before  # refused before a run folder is made

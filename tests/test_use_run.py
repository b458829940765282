"""Use a finished run: predict, evaluate, export; the Python API. LoRA, IA3 and QLoRA on tiny models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import peftspec
from peftspec.runs import read_run
from tests.helpers.cli import peftspec as run_cli
from tests.helpers.specs import train_tiny_runs
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv

pytest.importorskip("torch")

ADAPTERS = {
    "lora": ("bert", 'kind = "lora"\nr = 4\ntarget_modules = ["query", "value"]'),
    "ia3": (
        "gemma",
        'kind = "ia3"\ntarget_modules = ["k_proj", "v_proj", "down_proj"]\n'
        'feedforward_modules = ["down_proj"]',
    ),
    "qlora": (
        "qwen2",
        'kind = "lora"\nr = 4\ntarget_modules = ["q_proj", "v_proj"]\n[quantization]\nmethod = "bnb-4bit"',
    ),
    # a sentence-transformers checkpoint: pooling "auto" is its mean pooling, which BERT's own head
    # does not do (predict, evaluate and export must all pool the same way)
    "mean": ("stbert", 'kind = "lora"\nr = 4\ntarget_modules = ["query", "value"]'),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("use")
    for kind in ("bert", "gemma", "qwen2"):
        make_backbone(kind, root / kind)
    make_backbone("bert", root / "stbert", seed=3, sentence_pooling="pooling_mode_mean_tokens")
    write_csv(synthetic_rows(120, seed=1), root / "train.csv")
    write_csv(synthetic_rows(40, seed=2), root / "validation.csv")
    return train_tiny_runs(
        root,
        ADAPTERS,
        name_prefix="use-",
        extra='id_column = "id"\nmax_length = 32\n',
        metrics={"mean": 'tune_for = "jaccard"\n'},
    )


def peftspec_cli(*args: str, stdin: str | None = None):
    """The command, in this process (the imports are paid once)."""
    return run_cli(Path.cwd(), *args, stdin=stdin.encode() if stdin is not None else None)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_predict_reproduces_the_saved_validation_predictions(runs, name, tmp_path):
    root = runs[name]
    validation = root.parents[1] / "validation.csv"
    proc = peftspec_cli("predict", str(root), str(validation), "-o", str(tmp_path / "out.parquet"))
    assert proc.returncode == 0, proc.stderr
    import polars as pl

    labelled = pl.read_parquet(tmp_path / "out.parquet")
    saved = read_run(root).predictions().filter(split="validation")
    scores = np.array([[row[f"score_{e}"] for e in EMOTIONS] for row in labelled.iter_rows(named=True)])
    np.testing.assert_array_equal(scores.astype(np.float32), np.array(saved["scores"].to_list(), np.float32))
    predicted = np.array(saved["predicted"].to_list())
    expected = [[EMOTIONS[j] for j in np.flatnonzero(row)] for row in predicted]
    assert labelled["predicted"].to_list() == expected
    assert labelled["id"].to_list() == saved["id"].to_list()  # input columns are kept


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_evaluate_on_the_validation_file_reproduces_eval_json(runs, name):
    root = runs[name]
    proc = peftspec_cli("evaluate", str(root), str(root.parents[1] / "validation.csv"), "--name", "again")
    assert proc.returncode == 0, proc.stderr
    recorded = json.loads((root / "eval.json").read_text())["validation"]
    again = json.loads((root / "eval-again.json").read_text())["again"]
    for key in ("f1_micro", "f1_macro", "f1_weighted", "subset_accuracy", "jaccard"):
        assert again[key] == pytest.approx(recorded[key], abs=1e-12), key
    assert again["loss"] == pytest.approx(recorded["loss"], rel=1e-6)
    assert (root / "confusion-again.json").is_file() and (root / "predictions-again.parquet").is_file()
    assert "f1_macro" in proc.stdout
    shown = json.loads(peftspec_cli("compare", str(root), "--split", "again", "--format", "json").stdout)
    assert shown[0]["f1_macro"] == again["f1_macro"]


@pytest.mark.parametrize("name", ["lora", "ia3", "mean"])
def test_merged_export_loads_with_plain_transformers(runs, name, tmp_path):
    root = runs[name]
    out = tmp_path / "merged"
    proc = peftspec_cli("export", str(root), "-o", str(out), "--merge")
    assert proc.returncode == 0, proc.stderr
    code_file = out / "peftspec_pooling.py"
    assert code_file.is_file() == (name == "mean")  # only a pooling the head does not do needs code
    trust = ", trust_remote_code=True" if name == "mean" else ""
    if name == "mean":
        assert "trust_remote_code=True" in (out / "README.md").read_text()
        from transformers import AutoModelForSequenceClassification

        with pytest.raises(ValueError, match="trust_remote_code"):  # never silently pooled another way
            AutoModelForSequenceClassification.from_pretrained(out, trust_remote_code=False)
    code = (
        "import sys, json, torch\n"
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        f"m = AutoModelForSequenceClassification.from_pretrained({str(out)!r}{trust}).eval()\n"
        f"t = AutoTokenizer.from_pretrained({str(out)!r}{trust})\n"
        "texts = [l.strip() for l in sys.stdin]\n"
        "with torch.no_grad():\n"
        "    b = t(texts, padding=True, truncation=True, max_length=32, return_tensors='pt')\n"
        "    print(json.dumps(torch.sigmoid(m(**b).logits).tolist()))\n"
        "print(json.dumps(m.config.id2label))\n"
    )
    texts = ["happy and delighted today", "so scared and nervous at work", "furious again"]
    plain = subprocess.run(
        [sys.executable, "-c", code], input="\n".join(texts), capture_output=True, text=True
    )
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.strip().splitlines()
    merged_scores, id2label = np.array(json.loads(lines[-2])), json.loads(lines[-1])
    assert list(id2label.values()) == EMOTIONS
    adapter_scores = peftspec.load_run(root).predict(texts).scores
    np.testing.assert_allclose(merged_scores, adapter_scores, atol=1e-5)
    assert "## Evaluation" in (out / "README.md").read_text()


def test_merging_a_qlora_run_is_refused_then_done_in_16_bit(runs, tmp_path):
    root = runs["qlora"]
    refused = peftspec_cli("export", str(root), "-o", str(tmp_path / "m"), "--merge")
    assert refused.returncode == 1
    assert "merging into quantised weights" in refused.stderr and "--dtype bfloat16" in refused.stderr
    done = peftspec_cli("export", str(root), "-o", str(tmp_path / "m"), "--merge", "--dtype", "float32")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m" / "model.safetensors").is_file()


def test_adapter_export_loads_with_peft(runs, tmp_path):
    root = runs["lora"]
    assert peftspec_cli("export", str(root), "-o", str(tmp_path / "a")).returncode == 0
    assert (tmp_path / "a" / "adapter_model.safetensors").is_file()
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    base = AutoModelForSequenceClassification.from_pretrained(
        root.parents[1] / "bert", num_labels=len(EMOTIONS)
    )
    model = PeftModel.from_pretrained(base, tmp_path / "a")
    assert model.peft_config["default"].r == 4


@pytest.mark.parametrize(
    ("name", "objective", "protocol"),
    [
        ("lora", "f1_macro", "tuned per label on validation for f1_macro"),
        ("mean", "jaccard", "tuned jointly on validation for jaccard"),
    ],
)
def test_tuned_thresholds_say_what_they_were_tuned_for(runs, name, objective, protocol):
    run = read_run(runs[name])
    used = run.thresholds_used()
    assert used["tuned_for"] == objective and run.threshold_protocol() == protocol
    assert used["score_on_tuning_rows"] == pytest.approx(
        run.split_metrics("validation")[objective], abs=1e-12
    )
    facts = peftspec_cli("report", str(runs[name]), "-o", str(runs[name].parent / f"report-{name}"))
    assert facts.returncode == 0, facts.stderr
    assert f"Thresholds {protocol}" in (runs[name].parent / f"report-{name}" / "report.md").read_text()


def test_python_api_and_stdin_predict(runs):
    loaded = peftspec.load_run(runs["lora"])
    result = loaded.predict(["happy today", "scared and sad"])
    assert result.scores.shape == (2, len(EMOTIONS)) and len(result.labels()) == 2
    proc = peftspec_cli("predict", str(runs["lora"]), "-", stdin="happy today\n\nfurious\n")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["happy today", "", "furious"]
    assert rows[1]["predicted"] is None and "1 row(s) with empty text" in proc.stderr


def test_predict_refuses_a_run_that_is_not_completed(tmp_path):
    from tests.helpers.fixture_runs import write_run

    failed = write_run(tmp_path, "broken-20260101T000000Z", status="failed", steps=10)
    proc = peftspec_cli("predict", str(failed), "-", stdin="hello\n")
    assert proc.returncode == 1 and "is failed, not completed" in proc.stderr

"""`peftspec run` end to end on tiny random backbones (BERT, Qwen2, Gemma) built here: real training,
real run directories, saved adapters that reload and reproduce the saved predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from peftspec.runs import read_run
from peftspec.spec import load_spec
from tests.helpers.cli import peftspec as run_cli
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv, write_jsonl

pytest.importorskip("torch")


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    make_backbone("bert", root / "bert")
    make_backbone("qwen2", root / "qwen2", with_pad=False)  # decoder without a pad token
    make_backbone("gemma", root / "gemma")
    write_csv(synthetic_rows(160, seed=1), root / "train.csv")
    write_csv(synthetic_rows(40, seed=2), root / "test.csv")
    write_jsonl(synthetic_rows(160, seed=3, multi_label=False), root / "mc_train.jsonl")
    return root


def spec_text(backbone: str, adapter: str, extra: str = "", multi_class: bool = False) -> str:
    if multi_class:
        data = (
            'train = "mc_train.jsonl"\nlabels = { format = "single", column = "label", '
            f"names = {json.dumps(EMOTIONS)} }}"
        )
    else:
        data = f'train = "train.csv"\ntest = "test.csv"\nlabels.columns = {json.dumps(EMOTIONS)}'
    return f"""
name = "e2e-{backbone}"
[dataset]
{data}
id_column = "id"
max_length = 32
[backbone]
model = "./{backbone}"
[adapter]
{adapter}
[trainer]
epochs = 2
batch_size = 16
learning_rate = 5e-3
logging_steps = 2
{extra}
[tracking]
output_root = "runs"
"""


def run_spec(workspace: Path, name: str, text: str, monkeypatch=None):
    import os

    from rich.console import Console

    from peftspec.api import run_spec as train_spec

    path = workspace / f"{name}.toml"
    path.write_text(text)
    spec = load_spec(path)
    cwd = os.getcwd()
    os.chdir(workspace)  # output_root is relative to the working directory
    try:
        outcome = train_spec(spec, [str(path)], console=Console(quiet=True))
    finally:
        os.chdir(cwd)
    return spec, workspace / outcome.paths.root


def check_run_directory(spec, root: Path, adapter_folder: str = "adapter") -> None:
    run = read_run(root)
    assert run.status == "completed" and run.warnings == []
    for name in (
        "run.json",
        "spec.toml",
        "metrics.jsonl",
        "eval.json",
        "confusion.json",
        "thresholds.json",
        "predictions.parquet",
    ):
        assert (root / name).is_file(), name
    weights = "model.safetensors" if adapter_folder == "model" else "adapter_model.safetensors"
    assert (root / adapter_folder / weights).is_file()
    assert list((root / "source").iterdir())
    assert load_spec(root / "spec.toml") == spec
    events = {r["event"] for r in run.metrics()}
    assert {"train", "eval", "train_end", "final"} <= events
    for key in ("python", "torch", "transformers", "peft", "bitsandbytes"):
        assert key in run.record.versions
    import torch

    assert run.record.device["type"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert run.record.seed == spec.trainer.seed
    assert run.record.overview.trainable_parameters > 0


def check_metrics_match_sklearn(root: Path, task: str) -> None:
    run = read_run(root)
    evaluation, preds = run.eval(), run.predictions()
    for split in ("validation", "test"):
        if split not in evaluation:
            continue
        rows = preds.filter(split=split)
        gold, pred = np.array(rows["gold"].to_list()), np.array(rows["predicted"].to_list())
        recorded = evaluation[split]
        assert recorded["f1_micro"] == pytest.approx(
            skm.f1_score(gold, pred, average="micro", zero_division=0)
        )
        assert recorded["f1_macro"] == pytest.approx(
            skm.f1_score(gold, pred, average="macro", zero_division=0)
        )
        if task == "multi_label":
            assert recorded["subset_accuracy"] == pytest.approx(skm.accuracy_score(gold, pred))
            assert recorded["jaccard"] == pytest.approx(
                skm.jaccard_score(gold, pred, average="samples", zero_division=1.0)
            )
            cm = json.loads((root / "confusion.json").read_text())[split]["matrices"]
            assert cm[EMOTIONS[0]][1][1] == int(((gold[:, 0] == 1) & (pred[:, 0] == 1)).sum())
        else:
            assert recorded["accuracy"] == pytest.approx(skm.accuracy_score(gold, pred))
            cm = json.loads((root / "confusion.json").read_text())[split]["matrix"]
            assert cm == skm.confusion_matrix(gold, pred, labels=range(len(EMOTIONS))).tolist()


def check_reload_reproduces_predictions(
    spec, root: Path, folder: str = "adapter", atol: float = 1e-5
) -> None:
    from peftspec.build.data import load_data
    from peftspec.build.model import load_trained
    from peftspec.build.predict import predict
    from peftspec.build.tokenize import collator, to_dataset
    from peftspec.metrics.scoring import scores_from_logits

    run = read_run(root)
    model, tokenizer = load_trained(spec, run.record.labels, root / folder, run.record.added_pad_token)
    bundle = load_data(spec.dataset)
    dataset = to_dataset(bundle.validation, tokenizer, spec.dataset.max_length, bundle.task)
    batch = spec.trainer.eval_batch_size  # the same batches as the run: same padding, same kernels
    logits = predict(model, dataset, collator(tokenizer), batch, bundle.task).logits
    saved = run.predictions().filter(split="validation")
    assert saved["id"].to_list() == bundle.validation.ids
    np.testing.assert_allclose(
        scores_from_logits(logits, bundle.task), np.array(saved["scores"].to_list()), atol=atol
    )


def test_lora_multi_label_on_qwen2_without_pad_token(workspace):
    adapter = 'kind = "lora"\nr = 4\ntarget_modules = ["q_proj", "v_proj"]'
    spec, root = run_spec(workspace, "qwen_lora", spec_text("qwen2", adapter))
    check_run_directory(spec, root)
    check_metrics_match_sklearn(root, "multi_label")
    check_reload_reproduces_predictions(spec, root)
    assert read_run(root).record.overview.adapter == "lora r=4 on q_proj, v_proj"


def test_ia3_multi_label_on_gemma(workspace):
    targets = 'target_modules = ["k_proj", "v_proj", "down_proj"]'
    adapter = f'kind = "ia3"\n{targets}\nfeedforward_modules = ["down_proj"]'
    spec, root = run_spec(workspace, "gemma_ia3", spec_text("gemma", adapter, 'lr_scheduler = "constant"'))
    check_run_directory(spec, root)
    check_metrics_match_sklearn(root, "multi_label")
    check_reload_reproduces_predictions(spec, root)


def test_qlora_multi_label_with_real_4bit(workspace):
    adapter = (
        'kind = "lora"\nr = 4\ntarget_modules = ["q_proj", "v_proj"]\n[quantization]\nmethod = "bnb-4bit"'
    )
    spec, root = run_spec(workspace, "qwen_qlora", spec_text("qwen2", adapter))
    check_run_directory(spec, root)
    check_metrics_match_sklearn(root, "multi_label")
    check_reload_reproduces_predictions(spec, root)
    assert read_run(root).record.quantization == "bnb-4bit"


def test_lora_multi_class_on_bert_with_tuned_metric_choice(workspace):
    adapter = 'kind = "lora"\nr = 4\ntarget_modules = ["query", "value"]'
    spec, root = run_spec(
        workspace, "bert_mc", spec_text("bert", adapter, 'best_metric = "accuracy"', multi_class=True)
    )
    check_run_directory(spec, root)
    check_metrics_match_sklearn(root, "multi_class")
    check_reload_reproduces_predictions(spec, root)
    assert read_run(root).record.best.metric == "accuracy"


def test_full_fine_tuning_on_bert_learns(workspace):
    text = spec_text("bert", 'kind = "none"').replace("learning_rate = 5e-3", "learning_rate = 1e-3")
    text = text.replace("epochs = 2", "epochs = 30") + '[metrics]\nthreshold = "tuned"\n'
    spec, root = run_spec(workspace, "bert_full", text)
    check_run_directory(spec, root, adapter_folder="model")
    check_metrics_match_sklearn(root, "multi_label")
    check_reload_reproduces_predictions(spec, root, folder="model")
    run = read_run(root)
    assert run.thresholds()["mode"] == "tuned"
    assert run.eval()["test"]["f1_macro"] > 0.5  # the cue words give the labels away: it must learn them


def test_cli_run_prints_plan_and_results_and_dry_run_writes_nothing(workspace):
    path = workspace / "cli.toml"
    path.write_text(
        spec_text("bert", 'kind = "lora"\nr = 4\ntarget_modules = ["query", "value"]').replace(
            'output_root = "runs"', 'output_root = "cli-runs"'
        )
    )
    dry = run_cli(workspace, "run", str(path), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "trainable of" in dry.stdout and not (workspace / "cli-runs").exists()
    speedups = " ".join(dry.stdout.replace("│", " ").split())  # the plan says which fast defaults are on
    assert "length-grouped batches" in speedups and "evaluation sorted by length" in speedups
    assert "fused AdamW" in speedups and "off: fused AdamW" not in speedups
    assert "sdpa attention" in speedups and "off: torch.compile" in speedups
    proc = run_cli(workspace, "run", str(path), "--set", "trainer.epochs=1")
    assert proc.returncode == 0, proc.stderr
    assert "Final evaluation" in proc.stdout and "Run directory: cli-runs/e2e-bert-" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_failed_run_is_recorded(workspace):
    from peftspec.build.model import ModelError

    text = spec_text("bert", 'kind = "lora"\ntarget_modules = ["no_such_module"]')
    with pytest.raises(ModelError, match=r"no_such_module|target modules"):
        run_spec(workspace, "bad_target", text.replace('name = "e2e-bert"', 'name = "bad-target"'))
    (root,) = (workspace / "runs").glob("bad-target-*")  # created before the model was built
    run = read_run(root)
    assert run.status == "failed" and run.record.error.type == "ModelError"


def test_bad_data_fails_before_a_run_directory_exists(workspace):
    (workspace / "bad.csv").write_text("id,text,joy,anger,fear,sadness\nr1,hello,1,0,0,3\n")
    path = workspace / "bad_data.toml"
    path.write_text(
        spec_text("bert", 'kind = "lora"')
        .replace('"train.csv"', '"bad.csv"')
        .replace('output_root = "runs"', 'output_root = "bad-runs"')
    )
    proc = run_cli(workspace, "run", str(path))
    assert proc.returncode == 1
    assert (
        "column 'sadness', row 1: one-hot label columns hold 0 or 1 (or true/false, yes/no), found '3'"
        in proc.stderr
    )
    assert not (workspace / "bad-runs").exists() and "Traceback" not in proc.stderr


def test_wandb_offline_logs_without_network_or_secrets(workspace, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_DIR", str(workspace / "wandb"))
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.setenv("WANDB_SILENT", "true")
    text = spec_text("bert", 'kind = "lora"\ntarget_modules = ["query"]').replace(
        "epochs = 2", "epochs = 1"
    ) + ('[tracking.wandb]\nproject = "peftspec-tests"\nmode = "offline"\ntags = ["tiny"]\n')
    _, root = run_spec(workspace, "wandb_offline", text)
    record = read_run(root).record
    assert record.wandb.mode == "offline" and record.wandb.id
    offline = list((workspace / "wandb").rglob("run-*.wandb"))
    assert offline, "no offline W&B run was written"
    for file in root.rglob("*"):
        if file.is_file() and file.suffix in (".json", ".jsonl", ".toml"):
            assert "x" * 40 not in file.read_text(), file


def test_quickstart_spec_runs_from_the_package(tmp_path):
    """The bundled data and the packaged MiniLM resolve through `package:` (one short epoch here)."""
    from tests.conftest import SPECS

    proc = run_cli(
        tmp_path,
        "run",
        str(SPECS / "quickstart.toml"),
        "--set",
        "trainer.epochs=1",
        "--set",
        "dataset.limit=80",
    )
    assert proc.returncode == 0, proc.stderr
    (root,) = (tmp_path / "runs").glob("quickstart-*")
    record = read_run(root).record
    assert record.rows == {"train": 64, "validation": 16, "test": 60}
    # the packaged MiniLM is a sentence-transformers checkpoint: auto pooling is its mean pooling
    assert record.model.pooling == "mean" and record.model.head_pooling == "pooler"
    assert "1_Pooling/config.json" in record.overview.pooling


@pytest.mark.slow
def test_a_compiled_run_trains_and_reports_what_compiling_cost(workspace):
    """`trainer.torch_compile = true` on a real run: the plan names the compiled blocks, the run
    completes, and metrics.jsonl holds the compile record (a CPU compile takes about a minute)."""
    adapter = 'kind = "lora"\nr = 4\ntarget_modules = ["query", "value"]'
    text = spec_text("bert", adapter, "torch_compile = true").replace(
        'name = "e2e-bert"', 'name = "compiled"'
    )
    _, root = run_spec(workspace, "compiled", text)
    run = read_run(root)
    assert run.status == "completed"
    assert any("torch.compile of 2 BertLayer blocks" in s for s in run.record.overview.speedups)
    (record,) = [r for r in run.metrics() if r["event"] == "compile"]
    assert record["first_step_s"] > record["later_step_s"] > 0 and record["compile_s"] > 0


def test_a_run_that_fails_says_where_its_traceback_is(tmp_path):
    """A failure that is not the user's mistake (weights cut short on disk) after the run started:
    one line of what failed, then the run directory whose run.json holds the traceback."""
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    workspace = make_tiny_workspace(tmp_path)
    weights = workspace / "bert" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    spec = write_tiny_lora_spec(workspace, "cut", dropout=0.0, trainer="epochs = 1")
    proc = run_cli(workspace, "run", str(spec))
    assert proc.returncode == 1 and proc.stderr.startswith("The run failed: ")
    (root,) = (workspace / "runs-cut").iterdir()
    said = " ".join(proc.stderr.split())
    assert (
        f"The run is recorded as failed in {root.relative_to(workspace)}; its run.json holds the traceback"
        in said
    )
    record = read_run(root).record
    assert record.status == "failed" and "Traceback" in record.error.traceback

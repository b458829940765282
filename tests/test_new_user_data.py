"""What a new user's data set ran into: headerless files with column names, thresholds that could not
reach rare labels, a model that predicts constants unnoticed, problems reported one at a time, the
threshold-0.5 figures of tuned runs hidden, and a completed run's step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from peftspec.spec import check_spec, load_spec
from tests.helpers.cli import peftspec
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv


def write_tsv_without_header(rows: list[dict], path: Path) -> Path:
    lines = [
        "\t".join([r["text"], ",".join(str(i) for i, e in enumerate(EMOTIONS) if r[e]), r["id"]])
        for r in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HEADERLESS = """
name = "headerless"
[dataset]
train = "train.tsv"
reader = {{ column_names = ["text", "labels", "id"]{extra} }}
labels = {{ format = "delimited", column = "labels", values = "indices", names = {names} }}
[backbone]
model = "tiny-bert"
"""


def test_column_names_imply_that_the_files_have_no_header(write_spec, tmp_path: Path):
    from peftspec.build.data import load_data

    write_tsv_without_header(synthetic_rows(30, seed=5), tmp_path / "train.tsv")
    spec = load_spec(write_spec(HEADERLESS.format(extra="", names=json.dumps(EMOTIONS))))
    bundle = load_data(spec.dataset)
    assert len(bundle.train) + len(bundle.validation) == 30  # the first row is data, not a header


def test_a_header_row_replaced_by_column_names_is_a_lint_warning(write_spec, tmp_path: Path):
    write_tsv_without_header(synthetic_rows(10, seed=5), tmp_path / "train.tsv")
    result = check_spec(
        write_spec(HEADERLESS.format(extra=", has_header = true", names=json.dumps(EMOTIONS)))
    )
    (warning,) = [d for d in result.warnings if d.code == "header-replaced"]
    assert warning.path == "dataset.reader.has_header" and "dropped" in warning.message


def test_a_limit_per_split(write_spec, tmp_path: Path):
    from peftspec.build.data import load_data

    write_csv(synthetic_rows(40, seed=1), tmp_path / "train.csv")
    write_csv(synthetic_rows(20, seed=2), tmp_path / "validation.csv")
    spec = load_spec(
        write_spec(
            'name = "x"\n[dataset]\ntrain = "train.csv"\nvalidation = "validation.csv"\n'
            f"labels.columns = {json.dumps(EMOTIONS)}\nlimit = {{ train = 12 }}\n"
            '[backbone]\nmodel = "tiny-bert"\n'
        )
    )
    bundle = load_data(spec.dataset)
    assert (len(bundle.train), len(bundle.validation)) == (12, 20)


def test_a_threshold_word_error_says_a_number_is_allowed(write_spec):
    result = check_spec(
        write_spec(
            'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n[backbone]\nmodel = "m"\n'
            '[metrics]\nthreshold = "tune"\n'
        )
    )
    (error,) = result.errors
    assert error.path == "metrics.threshold" and error.suggestion == "tuned"
    assert 'a number between 0 and 1 (exclusive), or "tuned"' in error.message


def test_labels_that_cannot_be_tuned_are_named():
    from peftspec.build.data import DataBundle, Split
    from peftspec.metrics.evaluation import FinalEvaluation, thresholds_for

    gold = np.array([[1, 0], [0, 0], [1, 0], [0, 0]], dtype=float)
    split = Split("validation", ["a", "b", "c", "d"], ["1", "2", "3", "4"], gold)
    bundle = DataBundle("multi_label", ["common", "never"], split, split, None)
    scores = np.array([[0.02, 0.1], [0.01, 0.2], [0.03, 0.3], [0.015, 0.4]])
    thresholds = thresholds_for("tuned", bundle, scores)
    assert thresholds["values"]["common"] < 0.05 and thresholds["values"]["never"] == 0.5
    assert list(thresholds["untuned"]) == ["never"]
    (warning,) = FinalEvaluation(thresholds).warnings()
    assert "'never' not tuned (kept at 0.5): no positive example" in warning


def test_prediction_health_on_known_scores():
    from peftspec.metrics.health import prediction_health

    flat = np.full((20, 4), 0.3) + np.linspace(0, 1e-3, 20)[:, None]
    health = prediction_health(flat, (flat >= 0.5).astype(int), "multi_label", EMOTIONS)
    assert health["constant"] and health["never_predicted"] == EMOTIONS
    assert any("hardly depend on the input" in w for w in health["warnings"])
    rng = np.random.default_rng(0)
    varied = rng.random((50, 4))
    assert prediction_health(varied, (varied >= 0.5).astype(int), "multi_label", EMOTIONS)["warnings"] == []
    # one of 60 classes: probabilities near 1/60 that move by a fifth of their size carry the
    # decision (right here on every row), and are not flat, though they move by under 0.01
    classes = np.arange(120) % 60
    logits = rng.normal(0, 0.05, (120, 60))
    logits[np.arange(120), classes] += 0.4
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert probs.std(axis=0).mean() < 0.01 and (probs.argmax(1) == classes).all()
    names = [f"intent {j}" for j in range(60)]
    assert prediction_health(probs, probs.argmax(1), "multi_class", names)["warnings"] == []
    same = np.tile(probs[:1], (120, 1)) + rng.normal(0, 1e-6, (120, 60))  # one answer for every row
    assert any(
        "hardly depend" in w
        for w in prediction_health(same, same.argmax(1), "multi_class", names)["warnings"]
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A tiny BERT whose pooler is zero (a frozen, untrained pooling layer: every row pools to the
    same vector), a normal tiny BERT, and data."""
    from safetensors.torch import load_file, save_file

    root = tmp_path_factory.mktemp("newuser")
    for name in ("bert", "flat-bert"):
        make_backbone("bert", root / name)
    weights = root / "flat-bert" / "model.safetensors"
    tensors = load_file(weights)
    tensors = {k: (v.zero_() if "pooler" in k else v) for k, v in tensors.items()}
    save_file(tensors, weights, metadata={"format": "pt"})
    write_csv(synthetic_rows(96, seed=1), root / "train.csv")
    write_csv(synthetic_rows(32, seed=2), root / "validation.csv")
    return root


def spec_file(root: Path, name: str, backbone: str, threshold: str) -> Path:
    path = root / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\n[dataset]\ntrain = "train.csv"\nvalidation = "validation.csv"\n'
        f"max_length = 32\nlabels.columns = {json.dumps(EMOTIONS)}\n"
        f'[backbone]\nmodel = "./{backbone}"\n'
        '[adapter]\nkind = "lora"\nr = 4\ntarget_modules = ["query", "value"]\n'
        "[trainer]\nepochs = 2\nbatch_size = 16\nlearning_rate = 5e-3\n"
        f'[metrics]\nthreshold = {threshold}\n[tracking]\noutput_root = "runs"\n'
    )
    return path


def only_run(root: Path, name: str) -> Path:
    (found,) = [p for p in (root / "runs").iterdir() if p.name.startswith(name + "-")]
    return found


def test_a_model_that_predicts_constants_is_called_out(workspace: Path):
    from peftspec.runs import read_run

    proc = peftspec(workspace, "run", str(spec_file(workspace, "flat", "flat-bert", "0.5")))
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = " ".join(proc.stdout.split())
    assert "warning: the scores hardly depend on the input" in out  # during training
    assert "warning: validation: the scores hardly depend on the input" in out  # and at the end
    assert 'add "pooler" to adapter.modules_to_save' in out
    run = read_run(only_run(workspace, "flat"))
    assert any("hardly depend on the input" in w for w in run.evaluation_warnings())
    assert all((e.get("health") or {}).get("constant") for e in run.stream.evals)
    report = workspace / "report-flat"
    assert peftspec(workspace, "report", str(run.path), "-o", str(report)).returncode == 0
    text = (report / "report.md").read_text()
    assert "hardly depend on the input" in text and "no sign of overfitting" not in text


async def test_the_run_screen_shows_the_warning(workspace: Path):
    from textual.widgets import Static

    from peftspec.tui.app import PeftspecApp
    from peftspec.tui.screens.run import RunScreen
    from tests.helpers.pilot import loaded_run_screen
    from tests.test_tui import text_of

    app = PeftspecApp(workspace / "runs", refresh_every=5)
    async with app.run_test(size=(160, 45)) as pilot:
        app.push_screen(RunScreen(only_run(workspace, "flat")))
        screen = await loaded_run_screen(pilot)
        facts = " ".join(text_of(screen.query_one("#facts-text", Static)).split())
        assert "warning" in facts and "hardly depend on the input" in facts


def test_a_tuned_run_shows_both_figures_and_its_final_step(workspace: Path):
    from peftspec.runs import read_run

    proc = peftspec(workspace, "run", str(spec_file(workspace, "tuned", "bert", '"tuned"')))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "validation @0.5" in proc.stdout
    run = read_run(only_run(workspace, "tuned"))
    record = run.record
    assert record.step == record.steps == record.overview.total_steps == 12  # 96 rows, batch 16, 2 epochs
    compare = peftspec(workspace, "compare", str(run.path), "--format", "markdown").stdout
    assert "F1 macro @0.5" in compare and "tuned theirs on validation (for the metric each names)" in compare
    at_half = json.loads((run.path / run.paths.eval.name).read_text())["validation"]["at_threshold_0.5"]
    assert f"{at_half['f1_macro']:.4f}" in compare
    frame = run.predictions()  # label names in the file itself, not only 0/1 lists
    assert {"gold_labels", "predicted_labels"} <= set(frame.columns)
    gold = frame["gold"].to_list()[0]
    assert frame["gold_labels"].to_list()[0] == [name for name, bit in zip(EMOTIONS, gold) if bit]
    report = workspace / "report-tuned"
    assert peftspec(workspace, "report", str(run.path), "-o", str(report)).returncode == 0
    assert "validation @0.5" in (report / "report.md").read_text()


@pytest.mark.parametrize(
    ("written", "environment", "expected"),
    [
        (None, "offline", "offline"),
        ('"online"', "offline", "online"),
        (None, None, "online"),
        (None, "disabled", None),
    ],
    ids=["env-wins-over-default", "spec-wins-over-env", "default", "env-disables"],
)
def test_wandb_mode_from_the_environment(write_spec, tmp_path, monkeypatch, written, environment, expected):
    from peftspec.build.compiled import compile_run

    write_csv(synthetic_rows(20, seed=1), tmp_path / "train.csv")
    mode = f"mode = {written}\n" if written else ""
    spec = load_spec(
        write_spec(
            f'name = "w"\n[dataset]\ntrain = "train.csv"\nlabels.columns = {json.dumps(EMOTIONS)}\n'
            f'[backbone]\nmodel = "m"\n[tracking.wandb]\nproject = "p"\n{mode}'
        )
    )
    if environment:
        monkeypatch.setenv("WANDB_MODE", environment)
    else:
        monkeypatch.delenv("WANDB_MODE", raising=False)
    settings = compile_run(spec).settings.wandb
    assert (settings.mode if settings else None) == expected


WRAPPED_JSON = """
name = "wrapped"
[dataset]
train = "train.json"
test = "test.json"
reader = {{ {reader} }}
labels = {{ format = "single", column = "label" }}
[backbone]
model = "tiny-bert"
"""


def test_a_json_file_that_is_one_object_names_the_key_with_its_rows(write_spec, tmp_path: Path):
    """`{"version": 2, "data": [rows]}` is not 1 row of nested columns: without
    `dataset.reader.field` it is refused with the key to name, with it the rows are read."""
    from peftspec.build.data import load_data
    from peftspec.build.problems import DataError

    rows = synthetic_rows(40, seed=3, multi_label=False)
    (tmp_path / "train.json").write_text(json.dumps(rows), encoding="utf-8")  # a list: read as is
    (tmp_path / "test.json").write_text(json.dumps({"version": 2, "data": rows[:12]}), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_data(load_spec(write_spec(WRAPPED_JSON.format(reader=""))).dataset)
    said = str(info.value)
    assert "test.json: the file is one JSON object (keys 'version', 'data'), not a list of rows" in said
    assert 'set dataset.reader.field = "data"' in said
    bundle = load_data(load_spec(write_spec(WRAPPED_JSON.format(reader='field = "data"'))).dataset)
    assert len(bundle.test) == 12 and len(bundle.train) + len(bundle.validation) == 40
    assert bundle.test.texts[0] == rows[0]["text"]
    with pytest.raises(DataError) as info:
        load_data(load_spec(write_spec(WRAPPED_JSON.format(reader='field = "rows"'))).dataset)
    assert "dataset.reader.field = 'rows' should name a list of rows (objects); found no such key" in str(
        info.value
    )
    csv_spec = WRAPPED_JSON.format(reader='field = "data"').replace(".json", ".csv")
    (warning,) = [d for d in check_spec(write_spec(csv_spec)).warnings if d.path == "dataset.reader.field"]
    assert "only read from .json files" in warning.message

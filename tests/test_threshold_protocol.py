"""Tuned thresholds are never scored on the rows they were tuned on in the figures reported as
final: test where there is one; otherwise validation cross-fitted (tuned on one half, scored on
the other, both ways), said in eval.json, the final table, compare and the report."""

from __future__ import annotations

import json

import numpy as np

from peftspec.metrics.crossfit import crossfit_decisions, crossfit_halves
from peftspec.metrics.scoring import decide
from peftspec.metrics.tuning import tune_thresholds
from peftspec.runs import read_run, run_dirs
from tests.helpers.cli import peftspec
from tests.helpers.fixture_runs import write_run
from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec


def test_each_half_is_decided_by_thresholds_tuned_on_the_other_half():
    rng = np.random.default_rng(0)
    gold = (rng.random((101, 4)) < 0.3).astype(np.int64)
    scores = np.clip(gold * 0.3 + rng.random((101, 4)) * 0.7, 0, 1)
    decided = crossfit_decisions(scores, gold, "f1_macro", seed=0)
    first, second = crossfit_halves(gold, seed=0)
    assert sorted([*first, *second]) == list(range(101)) and abs(len(first) - len(second)) == 1
    by_hand = np.zeros_like(gold)
    by_hand[first] = decide(
        scores[first], "multi_label", tune_thresholds(scores[second], gold[second]).values
    )
    by_hand[second] = decide(
        scores[second], "multi_label", tune_thresholds(scores[first], gold[first]).values
    )
    assert np.array_equal(decided, by_hand)
    in_sample = decide(scores, "multi_label", tune_thresholds(scores, gold).values)
    assert not np.array_equal(decided, in_sample)  # the optimistic decisions are not what is reported


def test_the_halves_share_each_labels_positives():
    """A label with few positives has them on both halves, so neither half's thresholds for it are
    tuned on no positive at all (a random cut put all of them on one side for some seeds)."""
    gold = np.zeros((60, 3), dtype=np.int64)
    gold[[5, 40], 0] = 1
    gold[[3, 17, 33, 51], 1] = 1
    gold[::3, 2] = 1
    for seed in range(20):
        first, second = crossfit_halves(gold, seed)
        assert {len(first), len(second)} == {30}
        assert np.array_equal(gold[first].sum(axis=0), gold[second].sum(axis=0))
    one_sided = 0
    for seed in range(20):
        first = np.random.default_rng(seed).permutation(60)[:30]
        one_sided += int(gold[first, 0].sum() in (0, 2))
    assert one_sided > 0


def test_a_run_without_a_test_split_reports_cross_fitted_validation_figures(tmp_path):
    make_tiny_workspace(tmp_path)  # no test split in the spec
    trainer = "epochs = 2\nbatch_size = 16\nlearning_rate = 5e-3"
    write_tiny_lora_spec(
        tmp_path, "s", dropout=0.0, trainer=trainer, tail='[metrics]\nthreshold = "tuned"', test=False
    )
    proc = peftspec(tmp_path, "run", "s.toml")
    assert proc.returncode == 0, proc.stderr
    lines = [line.strip() for line in proc.stdout.splitlines()]
    # under the table, each column says what decided it, and which figures to report
    assert "validation: at those thresholds, so optimistic (tuned on these rows)" in lines
    assert "validation cross-fit: each half decided by thresholds tuned on the other half" in lines
    assert "figures to report: validation, cross-fitted" in lines
    run = read_run(run_dirs(tmp_path / "runs-s")[0])
    validation = run.split_metrics("validation")
    assert validation["crossfit"]["folds"] == 2 and "f1_macro" in validation["crossfit"]
    assert run.thresholds_used()["report"] == "validation, cross-fitted"
    rows = json.loads(peftspec(tmp_path, "compare", str(run.path), "--format", "json").stdout)
    assert rows[0]["split"] == "validation" and rows[0]["crossfit"] is True
    assert rows[0]["f1_macro"] == validation["crossfit"]["f1_macro"]  # the honest figure, not the tuned one


def test_cross_fitted_figures_are_ranked_and_the_caption_says_so(tmp_path):
    paths = [
        write_run(tmp_path, f"{n}-20260301T12000{i}Z", quality=q)
        for i, (n, q) in enumerate([("a", 0.5), ("b", 0.6)])
    ]
    for path, crossfit in zip(paths, (0.41, 0.47)):
        evaluation = json.loads((path / "eval.json").read_text())
        del evaluation["test"]
        evaluation["thresholds"].update(
            mode="tuned", tuned_on="validation", report="validation, cross-fitted"
        )
        evaluation["validation"]["crossfit"] = {"f1_macro": crossfit, "f1_micro": crossfit, "folds": 2}
        (path / "eval.json").write_text(json.dumps(evaluation))
    md = peftspec(tmp_path, "compare", *map(str, paths), "--format", "markdown").stdout
    assert "Split: validation." in md and "cross-fitted figures" in md
    row_b = next(line for line in md.splitlines() if line.startswith("| b |"))
    assert "**0.4700**" in row_b  # ranked: no row was decided by thresholds tuned on it


def test_every_column_of_the_final_table_says_what_decided_it():
    import io

    from rich.console import Console

    from peftspec.report.final import metrics_table
    from peftspec.runs.layout import AT_HALF_KEY

    scores = {"f1_macro": 0.5, "subset_accuracy": 0.2, "loss": 0.3}
    evaluation = {
        "validation": {**scores, AT_HALF_KEY: {"f1_macro": 0.4}},
        "test": {**scores, AT_HALF_KEY: {"f1_macro": 0.45}},
        "thresholds": {"mode": "tuned", "tuned_on": "validation", "tuned_for": "f1_macro", "report": "test"},
    }
    console = Console(file=io.StringIO(), width=100)
    console.print(metrics_table(evaluation))
    lines = [line.strip() for line in console.file.getvalue().splitlines()]
    notes = lines[lines.index("thresholds tuned per label on validation for f1_macro") :]
    assert notes[1:] == [
        "validation: at those thresholds, so optimistic (tuned on these rows)",
        "validation @0.5: every label at threshold 0.5",
        "test: at those thresholds (tuned on validation, not on these rows)",
        "test @0.5: every label at threshold 0.5",
        "figures to report: test",
    ]
    narrow = Console(file=io.StringIO(), width=60)
    narrow.print(metrics_table(evaluation))
    assert "│ subset_accuracy │" in narrow.file.getvalue()  # a metric's name is never cut short

"""Calibration figures: the expected calibration error and the Brier score, per task, against
hand-worked values and scikit-learn; the reliability table they come from."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from peftspec.metrics.calibration import BINS, reliability
from peftspec.metrics.registry import METRICS, compute
from peftspec.metrics.scoring import decide, scores_from_logits

LABELS = ["a", "b", "c"]


def _by_hand(score: np.ndarray, happened: np.ndarray) -> float:
    """ECE over BINS equal-width bins written as a loop, with 1.0 in the last bin."""
    total = 0.0
    for b in range(BINS):
        low, high = b / BINS, (b + 1) / BINS
        inside = (score >= low) & ((score < high) if b < BINS - 1 else (score <= high))
        if inside.any():
            total += inside.sum() * abs(happened[inside].mean() - score[inside].mean())
    return total / len(score)


def test_ece_of_a_hand_worked_binary_case():
    # two rows scored 0.1 of which one is positive (gap 0.4), two scored 0.9 both positive (gap 0.1)
    positive = np.array([0.1, 0.1, 0.9, 0.9])
    scores = np.stack([1 - positive, positive], axis=1)
    gold = np.array([0, 1, 1, 1])
    got = compute(["ece", "brier"], "binary", gold, scores.argmax(1), ["n", "p"], scores)
    assert got["ece"] == pytest.approx((2 * 0.4 + 2 * 0.1) / 4)
    assert got["brier"] == pytest.approx(brier_score_loss(gold, positive))
    table = reliability(gold, scores)
    assert table.count.tolist() == [2, 2] and table.observed.tolist() == [0.5, 1.0]


def test_multi_label_scores_are_checked_label_by_label_and_pooled():
    rng = np.random.default_rng(0)
    scores = rng.random((200, 3))
    gold = (rng.random((200, 3)) < scores).astype(int)  # drawn from the scores: calibrated
    scores[0, 0], scores[1, 1] = 1.0, 0.0  # the edges fall in the last and the first bin
    got = compute(["ece", "brier"], "multi_label", gold, decide(scores, "multi_label", 0.5), LABELS, scores)
    assert got["ece"] == pytest.approx(_by_hand(scores.ravel(), gold.ravel().astype(float)))
    assert got["brier"] == pytest.approx(
        np.mean([brier_score_loss(gold[:, j], scores[:, j]) for j in range(3)])
    )
    assert reliability(gold, scores).total == 600
    # the thresholds do not change them
    later = compute(["ece", "brier"], "multi_label", gold, decide(scores, "multi_label", 0.9), LABELS, scores)
    assert later == got


def test_multi_class_checks_the_top_class_and_brier_sums_over_classes():
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 3, 400)
    probs = scores_from_logits(np.eye(3)[classes] * 1.5 + rng.normal(size=(400, 3)), "multi_class")
    got = compute(["ece", "brier"], "multi_class", classes, probs.argmax(1), LABELS, probs)
    right = (probs.argmax(1) == classes).astype(float)
    assert got["ece"] == pytest.approx(_by_hand(probs.max(1), right))
    assert got["brier"] == pytest.approx(brier_score_loss(classes, probs, labels=[0, 1, 2]))


def test_an_overconfident_model_has_a_larger_ece_than_a_calibrated_one():
    rng = np.random.default_rng(2)
    truth = rng.random(20_000)
    gold = (rng.random(20_000) < truth).astype(int)

    def ece(positive):
        scores = np.stack([1 - positive, positive], axis=1)
        return compute(["ece"], "binary", gold, scores.argmax(1), ["n", "p"], scores)["ece"]

    calibrated = ece(truth)
    overconfident = ece(np.clip(0.5 + (truth - 0.5) * 1.8, 0, 1))
    assert calibrated < 0.02 < 0.1 < overconfident


def test_a_diverged_model_gives_nan_not_a_crash():
    scores = np.full((4, 3), 0.5)
    scores[0, 0] = np.nan
    gold = np.eye(3, dtype=int)[[0, 1, 2, 0]]
    got = compute(["ece", "brier"], "multi_label", gold, gold, LABELS, scores)
    assert np.isnan(got["ece"]) and np.isnan(got["brier"])


def test_calibration_metrics_are_lower_better_and_not_tunable(write_spec):
    from peftspec.spec import SpecError, load_spec
    from tests.conftest import MINIMAL

    assert not METRICS["ece"].higher_is_better and not METRICS["brier"].higher_is_better
    spec = load_spec(
        write_spec(
            MINIMAL + '[metrics]\nnames = ["f1_macro", "ece", "brier"]\n[trainer]\nbest_metric = "ece"\n'
        )
    )
    assert spec.trainer.best_direction == "min" and spec.metrics.names == ["f1_macro", "ece", "brier"]
    with pytest.raises(SpecError, match="'ece'"):
        load_spec(write_spec(MINIMAL + '[metrics]\nthreshold = "tuned"\ntune_for = "ece"\n'))


def _run_with_scores(root, name: str, gold, scores, split: str = "test"):
    from peftspec.metrics.evaluation import prediction_rows
    from peftspec.runs import RunPaths
    from tests.helpers.fixture_runs import write_run

    path = write_run(root, name, labels=LABELS)
    ids = [f"r{i}" for i in range(len(gold))]
    pred = (scores >= 0.5).astype(int)
    rows = prediction_rows(split, ids, [f"text {i}" for i in ids], gold, scores, pred, LABELS)
    rows.write_parquet(RunPaths(path).predictions)
    return path


def test_the_report_draws_each_runs_reliability_and_lists_its_ece(tmp_path):
    from tests.helpers.cli import peftspec

    rng = np.random.default_rng(3)
    truth = rng.random((300, 3))
    gold = (rng.random((300, 3)) < truth).astype(int)
    honest = _run_with_scores(tmp_path / "runs", "honest-20260101T000000Z", gold, truth)
    bold = np.clip(0.5 + (truth - 0.5) * 1.9, 0, 1)
    sure = _run_with_scores(tmp_path / "runs", "sure-20260101T000000Z", gold, bold)
    blind = _run_with_scores(tmp_path / "runs", "blind-20260101T000000Z", gold, truth, split="validation")
    proc = peftspec(
        tmp_path, "report", str(honest), str(sure), str(blind), "-o", str(tmp_path / "rep"), "--split", "test"
    )
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "rep" / "report.md").read_text()
    section = md.split("### Calibration (test)")[1].split("\n### ")[0]
    for name, scores in (("honest", truth), ("sure", bold)):
        expected = _by_hand(scores.ravel(), gold.ravel().astype(float))
        row = next(line for line in section.splitlines() if line.startswith(f"| {name} |"))
        assert f"| 900 | {expected:.4f} |" in row
    assert "every (row, label) score against whether the label is gold" in section
    assert "Left out: blind (no test predictions)" in section
    assert (tmp_path / "rep" / "img" / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_group_pools_its_rows_in_the_picture_and_averages_its_runs_figures(tmp_path):
    from peftspec.report.calibration import calibrated
    from peftspec.runs import read_run

    rng = np.random.default_rng(4)
    gold = (rng.random((100, 3)) < 0.3).astype(int)
    first, second = rng.random((100, 3)), rng.random((100, 3))
    paths = [
        _run_with_scores(tmp_path, f"g-2026010{i}T000000Z", gold, s) for i, s in ((1, first), (2, second))
    ]
    runs = [read_run(p) for p in paths]
    row = {"name": "g (2 seeds)", "run": runs[0].name, "members": [r.name for r in runs]}
    (found,), missing = calibrated([row], runs, "test")
    each = [_by_hand(s.ravel(), gold.ravel().astype(float)) for s in (first, second)]
    assert not missing and found.runs == 2 and found.table.total == 600
    assert found.ece == pytest.approx((np.mean(each), np.std(each, ddof=1)))


async def test_the_tui_compare_screen_shows_each_runs_calibration(tmp_path, monkeypatch):
    from textual.widgets import DataTable, Static, TabbedContent

    from peftspec.tui.app import PeftspecApp
    from peftspec.tui.screens.compare import CompareScreen
    from tests.helpers.pilot import loaded_compare_screen, until

    rng = np.random.default_rng(5)
    truth = rng.random((120, 3))
    gold = (rng.random((120, 3)) < truth).astype(int)
    bold = np.clip(0.5 + (truth - 0.5) * 1.9, 0, 1)
    paths = [
        _run_with_scores(tmp_path, "honest-20260101T000000Z", gold, truth),
        _run_with_scores(tmp_path, "sure-20260101T000000Z", gold, bold),
    ]
    import peftspec.report.calibration as module

    threads = []  # reading every run's predictions is the loading worker's work, not the UI's

    def watched(*args):
        threads.append(threading.current_thread())
        return calibrated(*args)

    calibrated = module.calibrated
    monkeypatch.setattr(module, "calibrated", watched)
    app = PeftspecApp(tmp_path, refresh_every=5)
    async with app.run_test(size=(160, 45)) as pilot:
        app.push_screen(CompareScreen(paths))
        screen = await loaded_compare_screen(pilot, 2)
        assert threads and threading.main_thread() not in threads
        screen.query_one("#compare-tabs", TabbedContent).active = "calibration"
        table = screen.query_one("#calibration-table", DataTable)
        caption = screen.query_one("#calibration-caption", Static)
        await until(pilot, lambda: table.row_count == 2, f"the calibration table {caption.render()}")
        shown = {table.get_row_at(i)[0].plain: [c.plain for c in table.get_row_at(i)[1:]] for i in range(2)}
        for name, scores in (("honest", truth), ("sure", bold)):
            expected = _by_hand(scores.ravel(), gold.ravel().astype(float))
            assert shown[name][:2] == ["360", f"{expected:.4f}"]
        caption = str(caption.render())
        assert "Reliability on test" in caption and "every (row, label) score" in caption


def test_a_fitted_temperature_undoes_a_known_overconfidence():
    from sklearn.metrics import log_loss as sklearn_log_loss

    from peftspec.metrics.calibration import fit_temperature, log_loss

    rng = np.random.default_rng(6)
    true = rng.normal(0, 2, (4000, 3))
    gold = (rng.random((4000, 3)) < 1 / (1 + np.exp(-true))).astype(int)
    assert fit_temperature(2.5 * true, gold) == pytest.approx(2.5, rel=0.05)  # overconfident
    assert fit_temperature(0.5 * true, gold) == pytest.approx(0.5, rel=0.05)  # underconfident
    scores = 1 / (1 + np.exp(-true))
    assert log_loss(true, gold) == pytest.approx(sklearn_log_loss(gold.ravel(), scores.ravel()))
    classes = rng.integers(0, 4, 4000)
    logits = rng.normal(0, 1, (4000, 4))
    logits[np.arange(4000), classes] += 1.5
    probs = scores_from_logits(logits, "multi_class")
    drawn = np.array([rng.choice(4, p=p) for p in probs])  # labels drawn from the model: calibrated
    assert fit_temperature(3 * logits, drawn) == pytest.approx(3, rel=0.05)
    assert log_loss(logits, drawn) == pytest.approx(sklearn_log_loss(drawn, probs, labels=range(4)))
    assert fit_temperature(np.full((2, 2), np.nan), np.array([0, 1])) == 1.0  # diverged: left alone


def test_a_damaged_temperature_is_a_warning_and_the_run_stays_usable(tmp_path):
    import json

    from peftspec.runs import RunPaths, read_run
    from tests.helpers.fixture_runs import write_run

    path = write_run(tmp_path, "cal-20260101T000000Z")
    paths = RunPaths(path)
    paths.thresholds.write_text(json.dumps({"mode": "fixed", "calibration": {"temperature": 1.7}}))
    assert read_run(path).temperature() == 1.7
    paths.thresholds.write_text(json.dumps({"mode": "fixed", "calibration": {"temperature": -2}}))
    run = read_run(path)
    assert run.temperature() == 1.0 and any(
        "temperature -2 is not a positive number" in w for w in run.warnings
    )


def test_a_calibrated_run_scores_alike_wherever_it_is_used(tmp_path):
    """`metrics.calibration = "temperature"`: the temperature fitted on validation is recorded, and
    predict, evaluate and export score with it as the run's own evaluation did."""
    import json

    import polars as pl

    from peftspec.runs import read_run, run_dirs
    from tests.helpers.cli import peftspec
    from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv

    make_backbone("bert", tmp_path / "bert")
    write_csv(synthetic_rows(64, seed=1), tmp_path / "train.csv")
    write_csv(synthetic_rows(32, seed=2), tmp_path / "validation.csv")
    (tmp_path / "spec.toml").write_text(
        'name = "cal"\n[dataset]\ntrain = "train.csv"\nvalidation = "validation.csv"\nmax_length = 24\n'
        f'labels.columns = {json.dumps(EMOTIONS)}\n[backbone]\nmodel = "./bert"\n'
        '[adapter]\nkind = "lora"\nr = 4\ntarget_modules = ["query", "value"]\n'
        "[trainer]\nepochs = 1\nbatch_size = 16\nlearning_rate = 5e-3\n"
        '[metrics]\nnames = ["f1_macro", "ece", "brier"]\ncalibration = "temperature"\n'
    )
    proc = peftspec(tmp_path, "run", "spec.toml")
    assert proc.returncode == 0, proc.err
    assert "scores: logits divided by" in " ".join(proc.out.split())
    (path,) = run_dirs(tmp_path / "runs")
    run = read_run(path)
    calibration = run.calibration()
    assert calibration["fitted_on"] == "validation" and calibration["temperature"] != pytest.approx(1.0)
    assert calibration["log_loss_after"] <= calibration["log_loss_before"]
    recorded = run.split_predictions("validation")
    texts = recorded["text"].to_list()
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    predicted = peftspec(tmp_path, "predict", str(path), "in.txt")
    assert predicted.returncode == 0, predicted.err
    rows = [json.loads(line) for line in predicted.out.splitlines()]
    scores = np.array([[row[f"score_{name}"] for name in EMOTIONS] for row in rows])
    np.testing.assert_allclose(scores, np.array(recorded["scores"].to_list()), atol=1e-5)
    again = peftspec(tmp_path, "evaluate", str(path), "validation.csv", "--name", "again")
    assert again.returncode == 0, again.err
    figures = json.loads((path / "eval-again.json").read_text())["again"]
    assert figures["ece"] == pytest.approx(run.split_metrics("validation")["ece"], abs=1e-6)
    crossfit = run.split_metrics("validation")["crossfit"]  # validation: its own temperature's rows
    assert set(crossfit) == {"ece", "brier", "folds"}
    (row,) = json.loads(
        peftspec(tmp_path, "compare", str(path), "--split", "validation", "--format", "json").out
    )
    assert row["ece"] == crossfit["ece"] and row["calibration_crossfit"] and not row["crossfit"]
    exported = peftspec(tmp_path, "export", str(path), "-o", str(tmp_path / "merged"), "--merge")
    assert exported.returncode == 0, exported.err
    config = json.loads((tmp_path / "merged" / "config.json").read_text())
    assert config["score_temperature"] == calibration["temperature"]
    assert config["decision_rule"].startswith("sigmoid(logit / score_temperature)")
    report = peftspec(tmp_path, "report", str(path), "-o", str(tmp_path / "rep"))
    assert report.returncode == 0, report.err
    text = " ".join((tmp_path / "rep" / "report.md").read_text().split())
    assert (
        f"Scores: logits divided by {calibration['temperature']:.3g}, the temperature of least log-loss"
        in text
    )
    assert pl.read_parquet(path / "predictions.parquet").height == 32


def test_calibration_figures_of_scores_fitted_on_the_compared_rows_are_not_ranked():
    from peftspec.report.columns import COLUMNS, best_values, caption

    columns = [c for c in COLUMNS if c.key in ("ece", "brier", "roc_auc")]
    base = {"split": "validation", "scored_on": "multi_label, 3 labels, 20 rows"}
    rows = [
        {**base, "run": "fitted", "ece": 0.01, "brier": 0.05, "roc_auc": 0.9, "calibrated_on": "validation"},
        {**base, "run": "plain", "ece": 0.04, "brier": 0.08, "roc_auc": 0.8, "calibrated_on": None},
        {**base, "run": "also", "ece": 0.03, "brier": 0.09, "roc_auc": 0.7, "calibrated_on": None},
    ]
    best = best_values(rows, columns)
    assert ("fitted", "roc_auc") in best  # a temperature does not reorder a label's scores
    assert ("plain", "brier") in best and ("also", "ece") in best  # the fitted run's are left out
    assert not any(run == "fitted" and key in ("ece", "brier") for run, key in best)
    assert "calibrated by a temperature fitted on validation" in caption(rows)
    on_test = [{**r, "split": "test"} for r in rows]  # fitted on validation, compared on test: fair
    assert ("fitted", "ece") in best_values(on_test, columns) and "temperature" not in caption(on_test)
    crossfit = [{**rows[0], "calibration_crossfit": True}, *rows[1:]]  # each half's from the other
    assert ("fitted", "ece") in best_values(crossfit, columns) and "cross-fitted" in caption(crossfit)


def test_cross_fitted_scores_take_each_halfs_temperature_from_the_other_half():
    from peftspec.metrics.calibration import fit_temperature
    from peftspec.metrics.crossfit import crossfit_halves, crossfit_scores

    rng = np.random.default_rng(7)
    true = rng.normal(0, 2, (400, 3))
    gold = (rng.random((400, 3)) < 1 / (1 + np.exp(-true))).astype(int)
    logits = 3 * true  # overconfident
    scores = crossfit_scores(logits, gold, "multi_label")
    first, second = crossfit_halves(gold)
    expected = 1 / (1 + np.exp(-logits[second] / fit_temperature(logits[first], gold[first])))
    np.testing.assert_allclose(scores[second], expected)
    honest = compute(["ece"], "multi_label", gold, gold, LABELS, scores)["ece"]
    raw = compute(["ece"], "multi_label", gold, gold, LABELS, 1 / (1 + np.exp(-logits)))["ece"]
    assert honest < raw / 2  # the temperature still helps when fitted on other rows


async def test_the_run_screen_says_how_the_scores_were_calibrated(tmp_path):
    import json

    from textual.widgets import Static

    from peftspec.runs import RunPaths
    from peftspec.tui.app import PeftspecApp
    from peftspec.tui.screens.run import RunScreen
    from tests.helpers.fixture_runs import write_run
    from tests.helpers.pilot import loaded_run_screen
    from tests.test_tui import text_of

    path = write_run(tmp_path, "cal-20260101T000000Z")
    calibration = {"method": "temperature", "temperature": 2.5, "fitted_on": "validation"}
    RunPaths(path).thresholds.write_text(json.dumps({"mode": "fixed", "calibration": calibration}))
    app = PeftspecApp(tmp_path, refresh_every=5)
    async with app.run_test(size=(160, 45)) as pilot:
        app.push_screen(RunScreen(path))
        screen = await loaded_run_screen(pilot)
        facts = " ".join(text_of(screen.query_one("#facts-text", Static)).split())
        assert "calibration logits divided by 2.5, the temperature of least log-loss on validation" in facts

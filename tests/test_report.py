"""`peftspec compare` and `peftspec report` over fixture runs: every number traces to the run files."""

from __future__ import annotations

import io
import json
import re
import struct
from pathlib import Path

import pytest

from peftspec.report.compare import compare_runs, comparison_rows
from peftspec.runs import RunNotFound, read_run, resolve_runs
from tests.helpers.cli import peftspec as run_cli
from tests.helpers.fixture_runs import ML_LABELS, write_fixture_root, write_run

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    return write_fixture_root(tmp_path_factory.mktemp("runs"))


def peftspec(*args: str, cwd: Path | None = None):
    """The command, in this process."""
    return run_cli(cwd or Path.cwd(), *args)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_compare_json_round_trips_and_equals_eval_json(runs):
    chosen = [runs["lora"], runs["ia3"], runs["multiclass"]]
    proc = peftspec("compare", *map(str, chosen), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows == compare_runs([read_run(p) for p in chosen]).rows  # every run has a test split
    plain = comparison_rows([read_run(p) for p in chosen], "test")
    assert [{k: v for k, v in r.items() if not k.startswith("spec.")} for r in rows] == plain
    assert [r["spec.adapter.kind"] for r in rows] == ["lora", "ia3", "lora"]  # what sets them apart
    assert [r["name"] for r in rows] == ["ml-lora", "ml-ia3", "mc-lora"]  # short names beside folders
    for row, path in zip(rows, chosen):
        evaluation = json.loads((path / "eval.json").read_text())
        recorded = evaluation["test"]
        for key in ("f1_micro", "f1_macro", "f1_weighted", "jaccard", "subset_accuracy", "accuracy"):
            assert row[key] == recorded.get(key)
        assert row["val_loss"] == evaluation["validation"]["loss"]
        assert row["eval_samples_per_second"] == recorded["samples_per_second"]
        info = json.loads((path / "run.json").read_text())
        assert row["wall_time_s"] == info["duration_s"]
        assert row["trainable_parameters"] == info["overview"]["trainable_parameters"]
        losses = [
            json.loads(line)["loss"]
            for line in (path / "metrics.jsonl").read_text().splitlines()
            if '"event": "train"' in line
        ]
        assert (row["final_train_loss"], row["best_train_loss"]) == (losses[-1], min(losses))


def test_compare_baseline_deltas(runs):
    proc = peftspec("compare", str(runs["ia3"]), "--baseline", str(runs["lora"]), "--format", "json")
    rows = {r["run"]: r for r in json.loads(proc.stdout)}
    ia3, lora = rows[runs["ia3"].name], rows[runs["lora"].name]
    assert ia3["f1_macro_delta"] == pytest.approx(ia3["f1_macro"] - lora["f1_macro"])
    assert lora["f1_macro_delta"] == 0


def test_compare_formats(runs):
    md = peftspec("compare", str(runs["lora"]), str(runs["qlora"]), "--format", "markdown").stdout
    assert md.startswith("| run |") and "**0.6000**" in md  # the best F1 macro is marked
    csv = peftspec("compare", str(runs["lora"]), "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("run,name,status,backbone") and len(csv) == 2
    table = peftspec("compare", str(runs["lora"]), str(runs["ia3"]))
    assert table.returncode == 0 and "F1 macro" in table.stdout


def test_runs_scored_on_different_data_are_ranked_only_within_their_data(runs, tmp_path):
    """Multi-label runs beside a multi-class one: the caption says they were scored on different
    data, a figure is marked best only against runs of the same data, and the report's
    observations name the data each best is among."""
    md = peftspec("compare", str(runs["lora"]), str(runs["multiclass"]), "--format", "markdown").stdout
    caption = " ".join(md.split("\n\n")[1].split())
    assert "These runs were scored on different data (" in caption and "ranked only against runs" in caption
    assert "multi_label, " in caption and "multi_class, " in caption
    assert "**" not in md  # each alone with its data: nothing to rank
    rows = json.loads(
        peftspec("compare", str(runs["lora"]), str(runs["multiclass"]), "--format", "json").stdout
    )
    assert len({(r["scored_on"], r["label_set"]) for r in rows}) == 2
    mixed = [runs["lora"], runs["qlora"], runs["multiclass"]]
    md = peftspec("compare", *map(str, mixed), "--format", "markdown").stdout
    multiclass = next(line for line in md.splitlines() if line.startswith("| mc-lora |"))  # the metrics'
    better = next(line for line in md.splitlines() if line.startswith("| ml-qlora |"))
    assert "**" not in multiclass and "**0.6000**" in better  # qlora's F1 macro beats lora's, not mc's
    same = peftspec("compare", str(runs["lora"]), str(runs["qlora"]), "--format", "markdown").stdout
    assert "different data" not in same and "**" in same
    report = peftspec("report", *map(str, mixed), "-o", str(tmp_path / "rep"))
    text = (tmp_path / "rep" / "report.md").read_text()
    assert report.returncode == 0 and "scored on different data" in text
    assert "Best f1_macro (test; multi_label, 3 labels): `ml-qlora`" in text  # the best among its data


def test_run_arguments_by_prefix_glob_and_path(runs):
    root = runs["lora"].parent
    assert resolve_runs(["ml-lora"], root) == [runs["lora"]]
    assert len(resolve_runs([f"{root}/ml-*"], root)) == 6
    assert resolve_runs([str(runs["ia3"])], root) == [runs["ia3"]]
    with pytest.raises(RunNotFound):
        resolve_runs(["nope"], root)
    proc = peftspec("compare", "nope", "--root", str(root))
    assert proc.returncode == 2 and "matches no run directory" in proc.stderr


def test_report_tables_images_and_links(runs, tmp_path):
    chosen = [runs["lora"], runs["qlora"], runs["multiclass"], runs["failed"], runs["truncated"]]
    proc = peftspec("report", *map(str, chosen), "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "rep" / "report.md").read_text()
    html = (tmp_path / "rep" / "report.html").read_text()
    # the overview's values equal eval.json
    for path in chosen[:3]:
        recorded = json.loads((path / "eval.json").read_text())["validation"]
        short = path.name.rsplit("-", 1)[0]  # the spec's name: the fixture names each run once
        row = next(line for line in md.splitlines() if line.startswith(f"| {short} |"))
        assert f"{recorded['f1_macro']:.4f}" in row
    assert "Overview (validation)" in md and "Split: validation." in md  # two runs have no test split
    # every image link resolves to a valid PNG; confusion images have the expected shape
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links and all((tmp_path / "rep" / link).is_file() for link in links)
    for link in links:
        width, height = png_size(tmp_path / "rep" / link)
        if "confusion" in link and "ml-" in link:
            assert (width, height) == (3 * 260, 1 * 240)  # 3 labels: one row of three 2x2 heatmaps
        elif "confusion" in link:
            assert width == height and width >= 400  # NxN
    assert f"img/{runs['lora'].name}/confusion-validation.png" in links
    assert f"img/{runs['multiclass'].name}/confusion-test.png" in links
    # the markdown renders: no unbalanced tables, every link also in the HTML, label names escaped
    for block in re.split(r"\n\n", md):
        lines = [
            line for line in block.splitlines() if line.startswith("|") and not re.fullmatch(r"[|:-]+", line)
        ]
        assert len({line.count(" | ") - line.count("\\|") for line in lines}) <= 1, block
    assert all(f"src='{link}'" in html for link in links)
    assert "fear \\[r=8\\]" in md and "fear [r=8]" in html
    assert "CUDA out of memory" in md and "Best f1_macro (validation; multi_label, 3 labels" in md
    # each run's own curve is read: the fixtures' validation loss falls to the end
    assert "`ml-lora`: validation loss still falling at the last evaluation (step 40)" in md


def test_report_hyperparameters_come_from_the_spec(runs, tmp_path):
    peftspec("report", str(runs["lora"]), "-o", str(tmp_path))
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert "| trainer.learning\\_rate | 0.00155 |" in md and "| adapter.r | 8 |" in md
    assert "<td>trainer.learning_rate</td><td>0.00155</td>" in html
    assert all(label.split(" ")[0] in md for label in ML_LABELS)


def test_figures_tuned_on_the_split_shown_are_never_ranked(tmp_path):
    from tests.helpers.fixture_runs import write_run

    root = tmp_path / "runs"
    tuned = write_run(root, "tuned-20260301T120000Z", quality=0.8)  # the higher figures
    fixed = write_run(root, "fixed-20260301T130000Z", quality=0.5)
    evaluation = json.loads((tuned / "eval.json").read_text())
    evaluation["thresholds"] = {
        "mode": "tuned",
        "tuned_on": "validation",
        "values": evaluation["thresholds"]["values"],
    }
    for split in ("validation", "test"):
        evaluation[split]["at_threshold_0.5"] = {"f1_macro": 0.1, "f1_micro": 0.1}
    (tuned / "eval.json").write_text(json.dumps(evaluation))
    md = peftspec("compare", str(tuned), str(fixed), "--format", "markdown", "--split", "validation").stdout
    tuned_row = next(line for line in md.splitlines() if line.startswith("| tuned |"))
    fixed_row = next(line for line in md.splitlines() if line.startswith("| fixed |"))
    assert f"{evaluation['validation']['f1_macro']:.4f}" in tuned_row and "**" not in tuned_row.split("|")[5]
    assert "**" in fixed_row  # the untuned run holds the ranked best values
    assert "not ranked (never bold)" in md and "F1 macro @0.5" in md
    test_md = peftspec("compare", str(tuned), str(fixed), "--format", "markdown").stdout  # test by default
    assert "Split: test." in test_md and "not ranked" not in test_md
    assert f"**{evaluation['test']['f1_macro']:.4f}**" in test_md  # tuned on validation: test is fair
    report = tmp_path / "rep"
    assert peftspec("report", str(tuned), str(fixed), "-o", str(report)).returncode == 0
    default = (report / "report.md").read_text()
    assert "Overview (test)" in default and "Best f1_macro (test): `tuned`" in default
    assert (
        peftspec("report", str(tuned), str(fixed), "-o", str(report), "--split", "validation").returncode == 0
    )
    text = (report / "report.md").read_text()
    assert "not ranked (never bold)" in text
    assert "Best f1_macro" not in text  # one rankable run: no claim, and never one on tuned figures
    assert "| trainer.epochs | 2.0 |" in text
    header = next(line for line in md.splitlines() if line.startswith("| run |")).split("|")
    loss_columns = [i for i, title in enumerate(header) if "train loss" in title]
    assert loss_columns and all("**" not in fixed_row.split("|")[i] for i in loss_columns)  # never ranked


def with_validation_losses(path: Path, losses: list[float]) -> None:
    """Rewrite a fixture run's in-training evaluations to have these validation losses, in order."""
    lines = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    evals = iter(losses)
    for line in lines:
        if line["event"] == "eval":
            line["loss"] = next(evals)
    (path / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_the_fit_verdict_reads_each_runs_own_curve(tmp_path):
    """One run overfits (its validation loss climbs after step 20), one is flat: each is told so,
    with the step, never one sentence for all."""
    from peftspec.report.fit import fit_verdict
    from tests.helpers.fixture_runs import write_run

    root = tmp_path / "runs"
    verdicts = {}
    for name, losses in {"rising": [0.50, 0.40, 0.48, 0.55], "flat": [0.50, 0.40, 0.41, 0.405]}.items():
        path = write_run(root, f"{name}-20260301T120000Z")
        with_validation_losses(path, losses)
        verdicts[name] = fit_verdict(read_run(path), [])
    assert verdicts["rising"].startswith(
        "validation loss lowest at step 20 (0.4000) and 38% higher by step 40"
    )
    assert "overfitting after step 20 (the kept checkpoint is step 40)" in verdicts["rising"]
    assert (
        verdicts["flat"].startswith("validation loss flat since step 20")
        and "overfitting" not in verdicts["flat"]
    )


def test_a_binary_task_names_its_positive_class_wherever_the_task_is_shown(tmp_path):
    """`f1`, `precision` and `recall` of a binary task score one class; the plan, the report and
    the comparison line say which (the second label)."""
    from rich.console import Console

    from peftspec.build.overview import render_overview
    from peftspec.runs.record import Overview, positive_class

    assert positive_class("binary", ["ham", "spam"]) == "spam"
    assert positive_class("multi_class", ["ham", "spam"]) is None
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(
        render_overview(
            Overview(task="binary", labels=2, positive_class="spam", steps_per_epoch=5, total_steps=10)
        )
    )
    assert "binary, 2 labels, positive class 'spam'" in console.export_text()

    run = write_run(tmp_path, "spam-20260101T000000Z", task="binary", labels=["ham", "spam"])
    proc = peftspec("report", str(run), "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| task | binary, 2 labels, positive class 'spam' |" in md
    (row,) = comparison_rows([read_run(run)])
    assert row["scored_on"] == "binary, 2 labels, positive class 'spam', 20 validation rows"


def test_a_confusion_matrix_of_many_classes_leaves_empty_cells_blank_and_warns_of_no_glyph(tmp_path):
    """40 classes: a `0 / 0%` in each of 1,600 cells would hide the few that matter; a label with
    an emoji the font lacks is drawn with a box, without a matplotlib warning per glyph."""
    import warnings

    import numpy as np

    from peftspec.report import plots

    labels = [f"class_{i:02d}" for i in range(39)] + ["joie 🙂"]
    matrix = np.zeros((40, 40), dtype=int)
    matrix[np.arange(40), (np.arange(40) * 7) % 40] = 1
    matrix[3, 3] = 4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.confusion_matrix({"labels": labels, "matrix": matrix.tolist()}, tmp_path / "many.png")
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert png_size(tmp_path / "many.png")[0] > 2000

    plt = plots._pyplot()
    fig, (big, small) = plt.subplots(1, 2)
    plots._heatmap(big, matrix.tolist(), labels, "t", sparse=True)
    assert len(big.texts) == np.count_nonzero(matrix)  # one annotation per filled cell
    plots._heatmap(small, [[3, 0], [1, 2]], ["a", "b"], "t")
    assert [t.get_text() for t in small.texts] == ["3\n100%", "0\n0%", "1\n33%", "2\n67%"]  # all
    plt.close(fig)


def test_a_single_label_runs_report_names_the_classes_it_mixes_up_most(tmp_path):
    """Under each NxN matrix, the largest confusions in words: with many classes the picture alone
    does not say which cells matter."""
    from peftspec.metrics.confused import most_confused

    assert most_confused(["a", "b", "c"], [[5, 2, 2], [0, 4, 3], [1, 0, 9]], limit=2) == [
        ("b", "c", 3, 7),
        ("a", "b", 2, 9),  # ties in label order: a -> b before a -> c
    ]
    assert most_confused(["a", "b"], [[3, 0], [0, 2]]) == []
    root = tmp_path / "runs"
    write_run(root, "mc-20260302T120000Z", task="multi_class")
    confusion = json.loads((root / "mc-20260302T120000Z" / "confusion.json").read_text())["validation"]
    (gold, predicted, count, total), *_ = most_confused(confusion["labels"], confusion["matrix"])
    assert run_cli(tmp_path, "report", str(root / "mc-20260302T120000Z"), "-o", "report").returncode == 0
    text = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    caption = next(line for line in text.splitlines() if line.startswith("validation: rows = gold"))
    assert f"most confused (gold → predicted): {gold} → {predicted} {count} of {total}" in caption


def test_a_runs_data_warnings_follow_its_figures(tmp_path: Path):
    """Test rows seen in training make the test figures optimistic: the warning printed before
    training is recorded, and the report and compare repeat it wherever those figures go."""
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    make_tiny_workspace(tmp_path)
    train = (tmp_path / "train.csv").read_text().splitlines()
    test = (tmp_path / "test.csv").read_text().splitlines()
    (tmp_path / "test.csv").write_text("\n".join([test[0], *train[1:6], *test[6:]]) + "\n")  # 5 seen
    write_tiny_lora_spec(tmp_path, "seen", dropout=0.0, trainer="max_steps = 2")
    proc = peftspec("run", "seen.toml", cwd=tmp_path)
    assert proc.returncode == 0
    after_table = " ".join(proc.stdout.split("Final evaluation")[1].split())
    assert "warning: data: " in after_table and "5 of 40 test rows (12.5%)" in after_table
    (run,) = (tmp_path / "runs-seen").iterdir()
    (warning,) = read_run(run).record.data_warnings
    assert "5 of 40 test rows (12.5%) have the text of a training row" in warning
    peftspec("report", str(run), "-o", str(tmp_path / "report"), cwd=tmp_path)
    report = (tmp_path / "report" / "report.md").read_text()
    assert report.count("5 of 40 test rows (12.5%)") == 2  # observations and the run's section
    compared = peftspec("compare", str(run), "--format", "csv", cwd=tmp_path)
    assert f"warning: {run.name}: data: " in compared.stderr and "5 of 40 test rows" in compared.stderr
    assert "have the text of a training row" not in compared.stdout  # the CSV stays a CSV


def test_a_groups_curves_are_one_observation_that_counts_its_runs(tmp_path):
    """Five folds each with its own curve: the report says how many of them say what, and which,
    in one line for the group instead of five."""
    from peftspec.report.build import observations
    from peftspec.report.compare import comparison_rows
    from tests.helpers.fixture_runs import write_run

    curves = [
        [0.5, 0.4, 0.3, 0.2],
        [0.5, 0.4, 0.41, 0.405],
        [0.5, 0.4, 0.48, 0.55],
        [0.5, 0.3, 0.2, 0.1],
        [0.5] * 4,
    ]
    runs = []
    for fold, losses in enumerate(curves):
        path = write_run(tmp_path, f"cv-20260301T12000{fold}Z")
        with_validation_losses(path, losses)
        record = json.loads((path / "run.json").read_text())
        record["group"] = {"id": "cv-g20260301T115959Z", "index": fold, "size": 5, "folds": 5}
        (path / "run.json").write_text(json.dumps(record))
        runs.append(read_run(path))
    notes = observations(comparison_rows(runs, "validation"), runs)
    fits = [n for n in notes if n.startswith("`cv (5 folds)`")]
    assert fits == [
        "`cv (5 folds)`: validation loss still falling at the last evaluation (more training may help) in 2 "
        "of 5 (fold 0, fold 3); converged (validation loss within 5% of its minimum) in 2 of 5 (fold 1, "
        "fold 4); overfitting (validation loss more than 5% above its minimum by the end) in 1 of 5 (fold 2)."
    ]
    assert not any(n.startswith("`cv fold") for n in notes)


def test_compare_shows_the_columns_asked_for_and_tests_only_their_metrics(tmp_path):
    from tests.helpers.fixture_runs import write_run_with_predictions

    lora = str(write_run_with_predictions(tmp_path, "ml-lora-20260301T120000Z", 0.5, 1))
    ia3 = str(write_run_with_predictions(tmp_path, "ml-ia3-20260301T130000Z", 0.8, 2))
    md = peftspec("compare", lora, ia3, "--columns", "jaccard, F1 macro,wall_time_s", "--format", "markdown")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("| run | Jaccard | F1 macro | wall time (s) |\n")  # in the order asked
    assert "@0.5" not in md.stdout.split("\n\n")[1]  # the caption explains only the columns shown
    tested = peftspec("compare", lora, ia3, "--baseline", lora, "--columns", "jaccard,f1_macro")
    assert tested.returncode == 0, tested.stderr
    said = " ".join(tested.stdout.split())
    assert "Holm's correction for 2 comparisons" in said  # the two metrics shown, not every headline one
    everything = " ".join(peftspec("compare", lora, ia3, "--baseline", lora).stdout.split())
    assert "Holm's correction for 4 comparisons" in everything
    report = peftspec(
        "report", lora, ia3, "--baseline", lora, "--columns", "jaccard,f1_macro", "-o", str(tmp_path / "r")
    )
    assert report.returncode == 0, report.stderr
    md = (tmp_path / "r" / "report.md").read_text()
    assert "| run | Jaccard | F1 macro |\n" in md and "Holm's correction for 2 comparisons" in md
    wrong = peftspec("compare", lora, "--columns", "jacard")
    assert wrong.returncode == 2 and "--columns: no column 'jacard'" in wrong.stderr
    assert "did you mean 'jaccard'?" in wrong.stderr and "Traceback" not in wrong.stderr


def test_a_report_made_again_from_the_same_runs_is_the_same_bytes(runs, tmp_path):
    """Reports kept in git change only when their runs do: no creation date in the PDF figures."""
    chosen = [str(runs["lora"]), str(runs["multiclass"])]
    for out in ("one", "two"):
        assert peftspec("report", *chosen, "-o", str(tmp_path / out)).returncode == 0
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert any(f.suffix == ".pdf" for f in files) and any(f.suffix == ".png" for f in files)
    for f in files:
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes(), f
        if f.suffix == ".pdf":
            assert b"/CreationDate" not in (tmp_path / "one" / f).read_bytes(), f


def test_runs_evaluated_on_different_files_under_one_name_are_not_ranked_together(runs, tmp_path):
    """`peftspec evaluate RUN FILE --name new` on two runs, each on its own file: `compare --split
    new` ranks them only if they scored the same rows, and says what they scored."""
    import shutil

    import polars as pl

    from peftspec.runs.writer import RunWriter

    def evaluated(key: str, data: str, rows: int) -> Path:
        copy = tmp_path / runs[key].name
        shutil.copytree(runs[key], copy)
        run = read_run(copy)
        figures = run.split_metrics("validation")
        record = {"data": data, "rows": rows, "thresholds": {}, "warnings": [], "new": figures}
        scope = {"split": "the rows whose part says test"} if data.endswith("all.csv") else {}
        frame = pl.DataFrame({"id": ["a"]})
        RunWriter(run.paths, run.record).write_extra_evaluation("new", {**record, **scope}, {}, frame)
        return copy

    one, two = evaluated("lora", "/data/a/new.csv", 40), evaluated("qlora", "/data/b/other.csv", 25)
    md = peftspec("compare", str(one), str(two), "--split", "new", "--format", "markdown").stdout
    caption = " ".join(md.split("\n\n")[1].split())
    assert "scored on different data" in caption and "40 rows of new.csv" in caption, caption
    assert "25 rows of other.csv" in caption and "**" not in md  # before: ranked as if the same rows
    shutil.rmtree(one), shutil.rmtree(two)
    one, two = evaluated("lora", "/data/all.csv", 12), evaluated("qlora", "/data/all.csv", 12)
    md = peftspec("compare", str(one), str(two), "--split", "new", "--format", "markdown").stdout
    caption = " ".join(md.split("\n\n")[1].split())
    assert (
        caption.startswith("Split: new, 12 rows of all.csv (the rows whose part says test).") and "**" in md
    )

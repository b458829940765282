"""The rows a run got most confidently wrong: ranked by their loss under the recorded scores, each
with its wrong decisions named, in the report under the run."""

from __future__ import annotations

import numpy as np
import pytest

from peftspec.metrics.evaluation import prediction_rows
from peftspec.report.mistakes import confident_mistakes, shorten

LABELS = ["anger", "joy", "fear"]


def test_multi_label_mistakes_come_most_confident_first_with_their_wrong_decisions():
    gold = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 0, 0]])
    scores = np.array(
        [
            [0.9, 0.1, 0.1],  # right
            [0.4, 0.45, 0.2],  # joy missed, hesitantly: a small loss
            [0.05, 0.97, 0.02],  # fear missed and joy given, both confidently: the largest loss
            [0.8, 0.3, 0.6],  # joy missed, fear given: in between
            [0.2, 0.2, 0.2],  # right: nothing
        ]
    )
    pred = (scores >= 0.5).astype(int)
    frame = prediction_rows(
        "test", [f"r{i}" for i in range(5)], [f"text {i}" for i in range(5)], gold, scores, pred, LABELS
    )
    found, wrong = confident_mistakes(frame, "multi_label", LABELS)
    assert wrong == 3 and [m.id for m in found] == ["r2", "r3", "r1"]
    first = found[0]
    assert first.gold == ["fear"] and first.predicted == ["joy"]
    assert [(label, is_gold) for label, _, is_gold in first.off] == [("fear", True), ("joy", False)]
    expected = -(np.log(1 - 0.05) + np.log(1 - 0.97) + np.log(0.02))
    assert first.loss == pytest.approx(expected, rel=1e-5)
    assert first.why() == "fear 0.02 (gold, missed); joy 0.97 (not gold)"
    assert confident_mistakes(frame, "multi_label", LABELS, limit=1)[0][0].id == "r2"


def test_single_label_mistakes_rank_by_the_gold_class_probability():
    gold = np.array([0, 1, 2, 2])
    scores = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.1, 0.85, 0.05], [0.1, 0.2, 0.7]])
    frame = prediction_rows(
        "test",
        ["a", "b", "c", "d"],
        ["x", "y", "z", "w"],
        gold,
        scores,
        scores.argmax(1),
        LABELS,
        ["p", "q", "r", "s"],
    )
    found, wrong = confident_mistakes(frame, "multi_class", LABELS)
    assert wrong == 2 and [m.id for m in found] == ["c", "b"]  # fear at 0.05 before joy at 0.3
    assert found[0].text == "z / r" and found[0].why() == "joy 0.85 (not gold); fear 0.05 (gold, missed)"


def test_texts_are_shortened_to_one_line():
    assert shorten("a\nb   c") == "a b c"
    long = shorten("word " * 100, width=20)
    assert len(long) == 20 and long.endswith("…")


def test_the_report_shows_a_runs_most_confident_mistakes(tmp_path):
    from peftspec.runs import RunPaths
    from tests.helpers.cli import peftspec
    from tests.helpers.fixture_runs import write_run

    path = write_run(tmp_path, "ml-20260301T120000Z", labels=LABELS)
    gold = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    scores = np.array([[0.9, 0.1, 0.1], [0.1, 0.2, 0.99], [0.1, 0.1, 0.9]])
    rows = prediction_rows(
        "test",
        ["r0", "r1", "r2"],
        ["fine", "so | happy", "scared"],
        gold,
        scores,
        (scores >= 0.5).astype(int),
        LABELS,
    )
    rows.write_parquet(RunPaths(path).predictions)
    proc = peftspec(tmp_path, "report", str(path), "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "rep" / "report.md").read_text()
    section = report[report.index("### Most confident mistakes (test)") :]
    assert "1 of the 3 test rows have a wrong decision" in section
    assert "| r1 | so \\| happy | joy | fear | fear 0.99 (not gold); joy 0.20 (gold, missed) |" in section


async def test_the_run_screen_lists_the_mistakes_of_the_split_shown(tmp_path):
    from textual.widgets import DataTable, Static, TabbedContent

    from peftspec.runs import RunPaths
    from peftspec.tui.app import PeftspecApp
    from peftspec.tui.screens.run import RunScreen
    from tests.helpers.fixture_runs import write_run
    from tests.helpers.pilot import loaded_run_screen

    path = write_run(tmp_path, "ml-20260301T120000Z", labels=LABELS)
    gold = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    scores = np.array([[0.9, 0.1, 0.1], [0.1, 0.2, 0.99], [0.7, 0.1, 0.9]])
    pred = (scores >= 0.5).astype(int)
    import polars as pl

    frames = [
        prediction_rows(
            split, [f"{split[0]}{i}" for i in range(3)], ["a", "b", "c"], gold, scores, pred, LABELS
        )
        for split in ("validation", "test")
    ]
    pl.concat(frames).write_parquet(RunPaths(path).predictions)
    app = PeftspecApp(tmp_path, refresh_every=5)
    async with app.run_test(size=(160, 45)) as pilot:
        app.push_screen(RunScreen(path))
        screen = await loaded_run_screen(pilot)
        screen.query_one(TabbedContent).active = "mistakes"
        await pilot.pause(0.05)
        table = screen.query_one("#mistakes-table", DataTable)
        assert [table.get_row_at(i)[0].plain for i in range(table.row_count)] == ["v1", "v2"]
        assert "joy 0.20 (gold, missed)" in table.get_row_at(0)[4].plain
        caption = str(screen.query_one("#mistakes-caption", Static).render())
        assert "validation split" in caption and "2 of 3 rows wrong" in caption
        await pilot.press("t")
        await pilot.pause(0.05)
        assert [table.get_row_at(i)[0].plain for i in range(table.row_count)] == ["t1", "t2"]


@pytest.mark.parametrize("damage", ["not parquet", "no scores column"])
def test_a_damaged_predictions_file_is_left_out_with_a_warning_not_a_traceback(tmp_path, damage):
    """Tolerant on stored data: the report, `compare --baseline` and the reader go on without it."""
    import polars as pl

    from peftspec.runs import RunPaths, read_run
    from tests.helpers.cli import peftspec
    from tests.helpers.fixture_runs import write_run

    paths = [write_run(tmp_path, f"ml{i}-20260301T12000{i}Z", labels=LABELS) for i in range(2)]
    gold = np.array([[1, 0, 0], [0, 1, 0]])
    scores = np.array([[0.9, 0.1, 0.1], [0.1, 0.2, 0.99]])
    good = prediction_rows(
        "test", ["r0", "r1"], ["a", "b"], gold, scores, (scores >= 0.5).astype(int), LABELS
    )
    good.write_parquet(RunPaths(paths[0]).predictions)
    broken = RunPaths(paths[1]).predictions
    if damage == "not parquet":
        broken.write_bytes(b"PAR1 truncated by a full disk")
    else:
        good.drop("scores").write_parquet(broken)
    run = read_run(paths[1])
    assert run.predictions() is None and run.split_predictions("test") is None
    assert any(w.startswith("predictions.parquet: ") and "left out" in w for w in run.warnings)
    report = peftspec(tmp_path, "report", *map(str, paths), "-o", str(tmp_path / "rep"))
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "rep" / "report.md").read_text()
    assert text.count("### Most confident mistakes") == 1  # the sound run's only
    compared = peftspec(tmp_path, "compare", *map(str, paths), "--baseline", str(paths[0]))
    assert compared.returncode == 0 and "no recorded predictions on test" in compared.stderr
    assert pl.read_parquet(RunPaths(paths[0]).predictions).height == 2  # the sound file untouched

"""The TUI at 80x24 and wide (Pilot): columns picked by width, focus on the content, an 11-class
matrix that fits and a 40-class one that scrolls with its row names and header in view, `n` on
multi-label runs, panes that say which split they show, and the runs list
saying how each figure was decided."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from peftspec.tui.app import PeftspecApp
from peftspec.tui.data import fit_columns
from peftspec.tui.screens.compare import CompareScreen
from peftspec.tui.screens.run import RunScreen
from peftspec.tui.widgets.heatmap import abbreviations
from tests.helpers.fixture_runs import SEMEVAL_LABELS as EMOTIONS
from tests.helpers.fixture_runs import write_fixture_root, write_run
from tests.helpers.pilot import loaded_compare_screen, loaded_run_screen, until
from tests.test_tui import text_of

SMALL, WIDE = (80, 24), (180, 50)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    runs = write_fixture_root(tmp_path / "runs")
    evaluation = json.loads((runs["qlora"] / "eval.json").read_text())  # a run that tuned thresholds
    evaluation["thresholds"] = {**evaluation["thresholds"], "mode": "tuned", "tuned_on": "validation"}
    (runs["qlora"] / "eval.json").write_text(json.dumps(evaluation))
    write_run(tmp_path / "runs", "emo-20260310T120000Z", task="multi_class", labels=EMOTIONS)
    return tmp_path / "runs"


def columns(table: DataTable) -> list[str]:
    return [c.key.value for c in table.ordered_columns]


def fits(table: DataTable, width: int) -> bool:
    return sum(c.get_render_width(table) for c in table.ordered_columns) <= width


def test_fit_columns_takes_priority_order_and_keeps_table_order():
    widths = {"name": 20, "backbone": 30, "f1": 8, "scored": 8}
    assert fit_columns(widths, ["name", "f1", "scored", "backbone"], 40) == ["name", "f1", "scored"]
    assert fit_columns(widths, ["name", "f1", "scored", "backbone"], 100) == list(widths)
    assert fit_columns(widths, ["name", "f1"], 5) == ["name"]  # the first column always shows


def test_abbreviations_stay_distinct():
    assert abbreviations(EMOTIONS)[:3] == ["anger", "antic", "disgu"]
    assert abbreviations(["positive", "positively", "neg"]) == ["positive", "positivel", "neg"]
    assert abbreviations(["class_alpha", "class_beta"]) == ["class_a", "class_b"]


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_the_runs_list_shows_metrics_at_any_width_and_how_they_were_scored(root, size):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        table = screen.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count == 8, "the runs")
        shown = columns(table)
        assert shown[:5] == ["mark", "name", "status", "f1_micro", "f1_macro"] or "f1_macro" in shown
        assert "scored" in shown and fits(table, size[0])
        if size == WIDE:
            assert {"backbone", "adapter", "started", "jaccard"} <= set(shown)
        else:
            assert "backbone" not in shown and "started" not in shown
        scored = {
            table.get_row_at(i)[1].plain: table.get_row_at(i)[shown.index("scored")].plain for i in range(8)
        }
        assert scored["ml-qlora-20260301T140000Z"] == "tuned"  # the final figures, tuned thresholds
        assert scored["ml-live-20260303T120000Z"] == "@0.5"  # in-training evaluations
        assert scored["ml-lora-20260301T120000Z"] == "@0.5"  # fixed at 0.5
        assert scored["mc-lora-20260302T120000Z"] == "argmax"


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_compare_fits_its_columns_and_keys_act_on_the_runs(root, size):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=size) as pilot:
        app.push_screen(CompareScreen([root / "ml-lora-20260301T120000Z", root / "ml-ia3-20260301T130000Z"]))
        screen = await loaded_compare_screen(pilot, 2)
        table = screen.query_one("#overview-table", DataTable)
        assert screen.focused is table  # not the tab bar
        shown = columns(table)
        assert shown[0] == "name" and "f1_macro" in shown and fits(table, size[0])
        if size == SMALL:
            assert "final_train_loss" not in shown  # the metrics win the narrow screen
            assert "more column(s) in a wider terminal" in text_of(
                screen.query_one("#overview-caption", Static)
            )
        caption = " ".join(text_of(screen.query_one("#overview-caption", Static)).split())
        assert caption.startswith("Split: test.")  # both runs have a test split: the fair one
        await pilot.press("down", "b")  # the second run becomes the baseline, the tabs stay put
        assert screen.baseline == "ml-ia3-20260301T130000Z"
        assert screen.query_one("#compare-tabs").active == "overview"


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_an_eleven_class_matrix_fits_and_panes_name_their_split(root, size):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=size) as pilot:
        app.push_screen(RunScreen(root / "emo-20260310T120000Z"))
        screen = await loaded_run_screen(pilot)
        assert screen.focused is screen.query_one("#steps", DataTable)  # arrows move through the rows
        await pilot.press("right_square_bracket", "right_square_bracket")  # Metrics -> Curves -> Confusion
        assert screen.query_one("#tabs").active == "confusion"
        matrix = screen.query_one("#matrix", DataTable)
        assert screen.focused is matrix
        header = [column.label.plain for column in matrix.ordered_columns]  # gold \ pred anger antic ...
        assert header[1:] == abbreviations(EMOTIONS)
        assert matrix.virtual_size.width <= 78 and matrix.max_scroll_x == 0  # fits 80 columns, no scrolling
        assert [cell.plain.strip() for cell in matrix.get_row_at(0)[:2]] == ["anger", "40"]  # counts
        key = text_of(screen.query_one("#confusion-key", Static))
        assert key.startswith("rows = gold, columns = predicted; counts")
        caption = text_of(screen.query_one("#confusion-split", Static))
        assert "validation split" in caption and "most likely class" in caption
        await pilot.press("t")
        assert "test split" in text_of(screen.query_one("#confusion-split", Static))
        await pilot.press("right_square_bracket")
        assert screen.query_one("#tabs").active == "labels"
        assert "test split" in text_of(screen.query_one("#labels-split", Static))
        assert screen.focused is screen.query_one("#per-label", DataTable)


INTENTS = [f"intent_{word}_{kind}" for word in ("card", "cash", "transfer", "top_up") for kind in range(10)]


async def test_a_forty_class_matrix_is_numbered_and_scrolls_with_its_names_in_view(tmp_path):
    """Labels that share a long prefix cannot be told apart in a short header, and 40 columns do not
    fit: the columns are numbered as the rows are, each count sits under its own class, and the
    matrix scrolls sideways and down with the row names and the header fixed (it used to be squeezed
    to the screen, which hid the first columns and put their counts under other headers)."""
    root = tmp_path / "runs"
    write_run(root, "intents-20260310T120000Z", task="multi_class", labels=INTENTS)
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SMALL) as pilot:
        app.push_screen(RunScreen(root / "intents-20260310T120000Z"))
        screen = await loaded_run_screen(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket")
        matrix = screen.query_one("#matrix", DataTable)
        assert screen.focused is matrix
        header = [column.label.plain for column in matrix.ordered_columns]
        assert header[1:] == [str(i) for i in range(1, 41)]
        rows = [matrix.get_row_at(i) for i in range(matrix.row_count)]
        assert rows[0][0].plain == " 1 intent_card_0" and rows[39][0].plain == "40 intent_top_up_9"
        counts = json.loads((root / "intents-20260310T120000Z" / "confusion.json").read_text())
        matrix_of = counts["validation"]["matrix"]
        assert [[int(cell.plain) for cell in row[1:]] for row in rows] == matrix_of  # each under its column
        assert matrix.fixed_columns == 1 and matrix.max_scroll_x > 0 and matrix.max_scroll_y > 0
        await pilot.press(*["right"] * 30, *["down"] * 30)
        assert matrix.scroll_x > 0 and matrix.scroll_y > 0
        key = " ".join(text_of(screen.query_one("#confusion-key", Static)).split())
        worst = min(  # the largest count off the diagonal, the first gold class of the ties
            (-count, i, j) for i, row in enumerate(matrix_of) for j, count in enumerate(row) if i != j
        )
        assert f"most confused (gold → predicted): {INTENTS[worst[1]]} → {INTENTS[worst[2]]}" in key


async def test_n_switches_a_multi_label_runs_matrices_between_counts_and_rates(root):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SMALL) as pilot:
        app.push_screen(RunScreen(root / "ml-qlora-20260301T140000Z"))
        screen = await loaded_run_screen(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket")
        heat = screen.query_one("#heatmap", Static)
        before = text_of(heat)
        assert "%" not in before and "12" in before  # counts: [[12, 2], [3, 5]]
        await pilot.press("n")
        after = text_of(heat)
        assert "86%" in after and "14%" in after  # 12 / 14 and 2 / 14 of the gold negatives
        caption = text_of(screen.query_one("#confusion-split", Static))
        assert "thresholds tuned per label on validation" in caption


async def test_a_group_of_replicates_is_one_row_and_its_seeds_one_key_away(tmp_path):
    root = tmp_path / "runs"
    for seed in range(3):
        path = write_run(root, f"rep-20260301T12000{seed}Z", quality=0.5 + seed / 20)
        record = json.loads((path / "run.json").read_text())
        record.update(seed=seed, group={"id": "rep-g1", "index": seed, "size": 3, "seeds": [0, 1, 2]})
        (path / "run.json").write_text(json.dumps(record))
    write_run(root, "solo-20260302T120000Z")
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SMALL) as pilot:
        screen = app.screen
        table = screen.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count == 2, "the group and the single run")
        names = [table.get_row_at(i)[1].plain for i in range(2)]
        assert "rep (3 seeds)" in names
        group = table.get_row_at(names.index("rep (3 seeds)"))
        macro = group[columns(table).index("f1_macro")].plain
        assert macro == "0.550±0.050"  # F1 macro 0.50, 0.55, 0.60: mean ± sd
        await pilot.press("g")
        await until(pilot, lambda: table.row_count == 4, "every seed")
        await pilot.press("g")
        await until(pilot, lambda: table.row_count == 2, "the group again")
        table.move_cursor(row=names.index("rep (3 seeds)"))
        await pilot.press("enter")
        compare = await loaded_compare_screen(pilot, 3)
        overview = compare.query_one("#overview-table", DataTable)
        assert overview.row_count == 3  # the seeds side by side
        await pilot.press("escape")
        for row in range(2):  # the group and the single run, compared: the group as mean ± sd
            table.move_cursor(row=row)
            await pilot.press("space")
        await pilot.press("c")
        compare = await loaded_compare_screen(pilot, 4)
        overview = compare.query_one("#overview-table", DataTable)
        cells = [c.plain for i in range(overview.row_count) for c in overview.get_row_at(i)]
        assert overview.row_count == 2 and "0.5300 ± 0.0500" in cells  # F1 macro on test: 0.48, 0.53, 0.58


async def test_a_group_of_folds_is_named_by_its_folds(tmp_path):
    root = tmp_path / "runs"
    for fold in range(3):
        path = write_run(root, f"cv-20260301T12000{fold}Z", quality=0.5 + fold / 20)
        record = json.loads((path / "run.json").read_text())
        group = {
            "id": "cv-g1",
            "index": fold,
            "size": 3,
            "seeds": [42] * 3,
            "folds": 3,
            "varies": ["dataset.fold"],
        }
        record.update(group=group)
        (path / "run.json").write_text(json.dumps(record))
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SMALL) as pilot:
        table = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count == 1, "the group")
        assert table.get_row_at(0)[1].plain == "cv (3 folds)"

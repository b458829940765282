"""The TUI driven by Textual's Pilot over fixture runs: sort, filter, open, panes, mark, compare, follow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from peftspec.tui.app import PeftspecApp
from peftspec.tui.screens.compare import CompareScreen
from peftspec.tui.screens.run import RunScreen
from peftspec.tui.screens.runs import RunsScreen
from tests.helpers.fixture_runs import write_fixture_root, write_run
from tests.helpers.pilot import loaded_compare_screen, loaded_run_screen, until

SIZE = (160, 45)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_fixture_root(tmp_path / "runs")
    return tmp_path / "runs"


def text_of(static: Static) -> str:
    """What a Static shows, as plain text (its content rendered by Rich)."""
    from rich.console import Console

    console = Console(width=150, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(static.content)
    return console.export_text()


def names(screen) -> list[str]:
    table = screen.query_one("#runs", DataTable)
    return [table.get_row_at(i)[1].plain for i in range(table.row_count)]


async def wait_rows(pilot, screen, count: int) -> None:
    table = screen.query_one("#runs", DataTable)
    await until(pilot, lambda: table.row_count >= count, f"{count} runs in the table")


async def test_runs_screen_lists_sorts_and_filters(root):
    app = PeftspecApp(root, refresh_every=0.2)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await wait_rows(pilot, screen, 7)
        table = screen.query_one("#runs", DataTable)
        statuses = {table.get_row_at(i)[1].plain: table.get_row_at(i)[2].plain for i in range(7)}
        assert statuses["ml-oom-20260304T120000Z"] == "failed"
        assert statuses["ml-live-20260303T120000Z"] == "running"
        # sort by F1 macro with a click on its header: best first
        keys = [c.key.value for c in table.ordered_columns]
        x = sum(c.get_render_width(table) for c in table.ordered_columns[: keys.index("f1_macro")]) + 2
        await pilot.click("#runs", offset=(x, 0))
        assert screen.sort_key == "f1_macro"
        assert names(screen)[0] == "mc-lora-20260302T120000Z"
        await pilot.press("r")
        assert names(screen)[-1] == "mc-lora-20260302T120000Z"
        # filter by text, then by a metric threshold
        await pilot.press("slash")
        for ch in "qlora":
            await pilot.press(ch)
        assert names(screen) == ["ml-qlora-20260301T140000Z"]
        await pilot.press("escape")
        assert len(names(screen)) == 7
        await pilot.press("slash", *"f1_macro>0.58", "enter")
        assert sorted(names(screen)) == ["mc-lora-20260302T120000Z", "ml-qlora-20260301T140000Z"]


async def test_new_run_folders_appear_without_restarting(root):
    app = PeftspecApp(root, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot, app.screen, 7)
        from tests.helpers.fixture_runs import write_run

        write_run(root, "ml-new-20260310T120000Z", quality=0.9)
        await wait_rows(pilot, app.screen, 8)
        assert "ml-new-20260310T120000Z" in names(app.screen)


async def test_open_a_run_and_switch_panes(root):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_rows(pilot, screen, 7)
        target = names(screen).index("ml-lora-20260301T120000Z")
        screen.query_one("#runs", DataTable).move_cursor(row=target)
        await pilot.press("enter")
        run_screen = await loaded_run_screen(pilot)
        assert isinstance(run_screen, RunScreen)
        steps = run_screen.query_one("#steps", DataTable)
        assert steps.row_count == 4  # four evaluations in the log
        best_row = [steps.get_row_at(i) for i in range(steps.row_count)][-1]
        assert best_row[0].style == "bold green"  # the best evaluation is highlighted
        tabs = run_screen.query_one(TabbedContent)
        for pane in ("curves", "confusion", "labels", "spec", "facts"):
            tabs.active = pane
            await pilot.pause(0.05)
        heat = run_screen.query_one("#heatmap", Static)
        assert "fear [r=8]" in text_of(heat)  # a label name with brackets, shown as text
        labels = run_screen.query_one("#per-label", DataTable)
        assert labels.get_row_at(2)[0].plain == "fear [r=8]"  # brackets shown as text, not markup
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_extra_evaluations_are_a_split_of_their_own(root):
    run_dir = root / "mc-lora-20260302T120000Z"
    extra = {
        "newdata": {
            "accuracy": 0.42,
            "f1_macro": 0.4,
            "per_label": {"neg": {"precision": 0.1, "recall": 0.2, "f1": 0.15, "support": 3}},
        }
    }
    (run_dir / "eval-newdata.json").write_text(json.dumps(extra))
    (run_dir / "confusion-newdata.json").write_text(
        json.dumps(
            {
                "newdata": {
                    "kind": "matrix",
                    "labels": ["neg", "neu", "pos"],
                    "matrix": [[1, 1, 1], [0, 3, 0], [0, 0, 3]],
                }
            }
        )
    )
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunScreen(run_dir))
        await loaded_run_screen(pilot)
        await pilot.press("t", "t")  # validation -> test -> newdata
        assert app.screen.split == "newdata"
        matrix = app.screen.query_one("#matrix", DataTable)

        def shown() -> list[list[str]]:
            return [[cell.plain.strip() for cell in matrix.get_row_at(i)] for i in range(matrix.row_count)]

        assert shown() == [["neg", "1", "1", "1"], ["neu", "0", "3", "0"], ["pos", "0", "0", "3"]]
        await pilot.press("n")  # row rates
        assert shown()[0][1] == "33%" and shown()[1][2] == "100%"
        labels = app.screen.query_one("#per-label", DataTable)
        assert labels.get_row_at(0)[3].plain == "0.1500"


async def test_failed_and_truncated_runs_show_their_story(root):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunScreen(root / "ml-oom-20260304T120000Z"))
        await loaded_run_screen(pilot)
        facts = text_of(app.screen.query_one("#facts-text", Static))
        assert "CUDA out of memory" in facts
        app.pop_screen()
        app.push_screen(RunScreen(root / "ml-trunc-20260305T120000Z"))
        await loaded_run_screen(pilot)
        assert app.screen.query_one("#steps", DataTable).row_count == 4  # the partial last line waits


async def test_mark_and_compare_with_config_diff(root):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_rows(pilot, screen, 7)
        for name in ("ml-lora-20260301T120000Z", "ml-ia3-20260301T130000Z"):
            screen.query_one("#runs", DataTable).move_cursor(row=names(screen).index(name))
            await pilot.press("space")
        assert screen.marked == {"ml-lora-20260301T120000Z", "ml-ia3-20260301T130000Z"}
        await pilot.press("c")
        compare = await loaded_compare_screen(pilot, 2)
        assert isinstance(compare, CompareScreen)
        overview = compare.query_one("#overview-table", DataTable)
        assert overview.row_count == 2
        await pilot.press("b")  # pin the first row as the baseline: deltas appear
        first = overview.get_row_at(0)
        assert "(baseline)" in first[0].plain
        second = [c.plain for c in overview.get_row_at(1)]
        assert any("(+0.1000)" in c for c in second)  # F1 macro 0.55 against the 0.45 baseline
        diff = compare.query_one("#diff-table", DataTable)
        keys = [diff.get_row_at(i)[0].plain for i in range(diff.row_count)]
        assert "adapter.kind" in keys and "trainer.learning_rate" in keys and "backbone.model" not in keys


async def test_live_follow_shows_a_new_evaluation(root):
    live = root / "ml-live-20260303T120000Z"
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunScreen(live, follow_every=0.1))
        await loaded_run_screen(pilot)
        steps = app.screen.query_one("#steps", DataTable)
        before = steps.row_count
        with open(live / "metrics.jsonl", "a") as fh:
            fh.write(
                json.dumps({"event": "eval", "split": "validation", "step": 30, "loss": 0.3, "f1_macro": 0.9})
                + "\n"
            )
        await until(pilot, lambda: steps.row_count > before, "the appended evaluation")
        assert steps.row_count == before + 1


async def test_help_lists_the_bindings(root):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot, app.screen, 7)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert app.screen.query("HelpPanel")
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert not app.screen.query("HelpPanel")


def test_tui_imports_no_torch_and_rejects_a_missing_folder(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, peftspec.tui.app, peftspec.tui.screens.run, peftspec.tui.screens.compare; "
        "print('torch' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "peftspec", "tui", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "no such folder" in proc.stderr


def test_tui_is_installed_with_its_styles(tmp_path):
    """`peftspec tui` must work from any folder, not only from a checkout (packaging guard)."""
    import subprocess
    import sys

    code = (
        "import importlib.resources as r, peftspec.tui.app; "
        "print(r.files('peftspec.tui').joinpath('styles.tcss').is_file())"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.strip() == "True", proc.stderr


async def test_facts_show_an_interrupted_run_how_to_resume_it(root):
    run_dir = root / "ml-lora-20260301T120000Z"
    info = json.loads((run_dir / "run.json").read_text())
    info.update(
        status="interrupted",
        resumed=[{"at": "2026-03-01T13:00:00+00:00", "from_step": 20}],
        error={
            "type": "RunInterrupted",
            "message": "SIGTERM received",
            "resume": f"peftspec run --resume {run_dir}",
        },
    )
    (run_dir / "run.json").write_text(json.dumps(info))
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunScreen(run_dir))
        await loaded_run_screen(pilot)
        facts = text_of(app.screen.query_one("#facts-text", Static))
        assert "from step 20" in facts and "peftspec run --resume" in facts and "interrupted" in facts


async def test_a_lower_is_better_best_metric_highlights_its_lowest_evaluation(root):
    run_dir = root / "ml-lora-20260301T120000Z"
    lines, evals = [], 0
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("event") == "eval":
            record["hamming_loss"] = 0.5 - 0.1 * evals  # falls: the last evaluation is the best
            evals += 1
        lines.append(json.dumps(record))
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    info = json.loads((run_dir / "run.json").read_text())
    info["best"]["metric"] = "hamming_loss"
    (run_dir / "run.json").write_text(json.dumps(info))
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunScreen(run_dir))
        run_screen = await loaded_run_screen(pilot)
        steps = run_screen.query_one("#steps", DataTable)
        styles = [steps.get_row_at(i)[0].style for i in range(steps.row_count)]
        assert styles == [""] * (evals - 1) + ["bold green"]


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_a_filter_being_typed_never_crashes_and_says_what_it_cannot_use(root, size):
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        await wait_rows(pilot, screen, 7)
        await pilot.press("slash")
        for key in "f1_macro>.":
            await pilot.press(key)
        await pilot.pause(0.1)
        summary = text_of(screen.query_one("#summary", Static))
        assert app.is_running and "not a number yet" in summary and len(names(screen)) == 7
        await pilot.press("5")  # f1_macro>.5
        await pilot.pause(0.1)
        assert 0 < len(names(screen)) < 7
        screen.query_one("#filter", Input).value = "subset_acc>0.2"
        await pilot.pause(0.1)
        assert "no column 'subset_acc'" in " ".join(text_of(screen.query_one("#summary", Static)).split())
        screen.query_one("#filter", Input).value = "F1_MACRO>0.6"  # metric names in any case
        await pilot.pause(0.1)
        assert 0 < len(names(screen)) < 7


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_an_open_run_screen_follows_its_run_to_the_end(root, size, tmp_path):
    """While running: the best row and the first curve follow the spec's best_metric and the newest
    evaluation stays in view; when the run ends, title, facts and confusion catch up unasked."""
    live = root / "ml-live-20260303T120000Z"
    spec = live / "spec.toml"
    spec.write_text(spec.read_text().replace("[trainer]\n", '[trainer]\nbest_metric = "f1_macro"\n'))
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=size) as pilot:
        app.push_screen(RunScreen(live, follow_every=0.1))
        screen = await loaded_run_screen(pilot)
        steps = screen.query_one("#steps", DataTable)
        assert screen._metric() == "f1_macro" and screen.sub_title == "running"
        with open(live / "metrics.jsonl", "a") as fh:
            for step, score in ((30, 0.99), (32, 0.5)):
                record = {
                    "event": "eval",
                    "split": "validation",
                    "step": step,
                    "loss": 0.3,
                    "f1_macro": score,
                }
                fh.write(json.dumps({**record, "f1_micro": 0.1}) + "\n")
        before = steps.row_count
        await until(pilot, lambda: steps.row_count == before + 2, "the appended evaluations")
        rows = [steps.get_row_at(i) for i in range(steps.row_count)]
        assert rows[-2][0].style == "bold green"  # best by f1_macro (0.99), not by f1_micro
        assert steps.cursor_row == steps.row_count - 1  # the newest evaluation in view
        finished = write_run(tmp_path / "done", live.name, status="completed", steps=20)
        for name in ("eval.json", "confusion.json", "thresholds.json", "run.json"):  # as the run ends
            (live / name).write_bytes((finished / name).read_bytes())
        await until(pilot, lambda: screen.sub_title == "completed", "the finished run")
        facts = " ".join(text_of(screen.query_one("#facts-text", Static)).split())
        assert "ended" in facts and "2026" in facts.split("ended", 1)[1][:30]
        heat = text_of(screen.query_one("#heatmap", Static))
        assert "recorded (yet)" not in heat


async def test_a_run_of_a_group_and_a_sweep_trial_says_which_in_its_facts(tmp_path):
    path = write_run(tmp_path, "sw-t004-20260301T120000Z")
    record = json.loads((path / "run.json").read_text())
    record["group"] = {"id": "sw-t004-g20260301T115959Z", "index": 1, "size": 3, "folds": 3}
    record["trial"] = {
        "study": "sw",
        "number": 4,
        "metric": "f1_macro",
        "state": "complete",
        "value": 0.55,
        "fold": 1,
        "fold_value": 0.53,
    }
    (path / "run.json").write_text(json.dumps(record))
    app = PeftspecApp(tmp_path, refresh_every=5)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(RunScreen(path))
        await loaded_run_screen(pilot)
        facts = " ".join(text_of(app.screen.query_one("#facts-text", Static)).split())
        assert "group sw-t004-g20260301T115959Z (fold 1, run 2 of 3)" in facts
        assert "trial sw #4 (complete, f1_macro 0.5500, the mean of its folds; this fold 0.5300)" in facts

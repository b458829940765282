"""Each label's F1 side by side across compared runs: `compare --per-label` in every format, the
report's overview table, groups as mean ± sd, deltas against a baseline, and no ranking where the
figures were decided at thresholds tuned on the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import peftspec
from tests.helpers.fixture_runs import ML_LABELS, write_run


def seeds(root: Path, name: str, qualities: list[float]) -> None:
    """A group of seed replicates of `name`, one fixture run per quality."""
    for s, quality in enumerate(qualities):
        path = write_run(root, f"{name}-20260301T12{s}000Z", quality=quality)
        record = json.loads((path / "run.json").read_text())
        record["name"] = name
        record["group"] = {
            "id": f"{name}-g20260301T120000Z",
            "index": s,
            "size": len(qualities),
            "seeds": [0, 1, 2],
        }
        (path / "run.json").write_text(json.dumps(record))


def test_compare_per_label_sets_labels_side_by_side_with_groups_and_deltas(tmp_path):
    root = tmp_path / "runs"
    seeds(root, "base", [0.5, 0.6, 0.7])
    write_run(root, "other-20260302T120000Z", quality=0.8)
    md = peftspec(
        tmp_path, "compare", "base", "other", "--root", str(root), "--per-label", "--format", "markdown"
    )
    assert md.returncode == 0, md.stderr
    lines = md.stdout.splitlines()
    assert lines[0] == "| label | support | base (3 seeds) | other |"
    first = lines[2].split(" | ")  # the first label: every run's figure at its quality
    assert first[0] == f"| {ML_LABELS[0]}" and first[1] == "10"
    assert first[2] == "0.5800 ± 0.1000" and first[3].startswith("**0.7800**")  # test: 0.02 below validation
    assert "No test stands behind these differences" in md.stdout
    with_base = peftspec(
        tmp_path,
        "compare",
        "base",
        "other",
        "--root",
        str(root),
        "--per-label",
        "--baseline",
        "base",
        "--format",
        "markdown",
    ).stdout
    assert "**0.7800 (+0.2000)**" in with_base and "0.5800 ± 0.1000 (+0.0000)" in with_base
    rows = json.loads(
        peftspec(
            tmp_path, "compare", "base", "other", "--root", str(root), "--per-label", "--format", "json"
        ).stdout
    )
    assert len(rows) == 2 * len(ML_LABELS)
    assert rows[0] == {
        "label": ML_LABELS[0],
        "support": 10,
        "name": "base (3 seeds)",
        "split": "test",
        "f1": rows[0]["f1"],
        "f1_std": rows[0]["f1_std"],
        "optimistic": False,
    }
    assert abs(rows[0]["f1"] - 0.58) < 1e-9  # test figures sit 0.02 below validation's
    report = peftspec(tmp_path, "report", "base", "other", "--root", str(root), "-o", str(tmp_path / "rep"))
    assert report.returncode == 0, report.stderr
    assert "### Per label (test)" in (tmp_path / "rep" / "report.md").read_text()


def test_figures_tuned_on_the_compared_rows_are_not_ranked(tmp_path):
    root = tmp_path / "runs"
    for name, quality in (("a", 0.5), ("b", 0.7)):
        path = write_run(root, f"{name}-20260301T120000Z", quality=quality)
        evaluation = json.loads((path / "eval.json").read_text())
        evaluation["thresholds"] = {
            "mode": "tuned",
            "tuned_on": "validation",
            "values": dict.fromkeys(ML_LABELS, 0.4),
        }
        (path / "eval.json").write_text(json.dumps(evaluation))
    md = peftspec(
        tmp_path,
        "compare",
        "a",
        "b",
        "--root",
        str(root),
        "--per-label",
        "--split",
        "validation",
        "--format",
        "markdown",
    ).stdout
    assert "**" not in md and "so their per-label figures here are optimistic" in md


def test_runs_on_other_label_sets_are_refused_with_the_reason(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "ml-20260301T120000Z")
    write_run(root, "mc-20260301T130000Z", task="multi_class")
    proc = peftspec(tmp_path, "compare", "ml", "mc", "--root", str(root), "--per-label")
    assert proc.returncode == 2 and "different label sets" in proc.stderr


async def test_the_tui_compare_screen_has_the_labels_side_by_side(tmp_path):
    from textual.widgets import DataTable, TabbedContent

    from peftspec.tui.app import PeftspecApp
    from peftspec.tui.screens.compare import CompareScreen
    from tests.helpers.pilot import loaded_compare_screen

    root = tmp_path / "runs"
    paths = [
        write_run(root, "a-20260301T120000Z", quality=0.5),
        write_run(root, "b-20260301T130000Z", quality=0.7),
    ]
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=(160, 45)) as pilot:
        app.push_screen(CompareScreen(paths))
        screen = await loaded_compare_screen(pilot, 2)
        screen.query_one(TabbedContent).active = "labels"
        await pilot.pause(0.05)
        table = screen.query_one("#labels-table", DataTable)
        assert table.row_count == len(ML_LABELS)
        first = [c for c in table.get_row_at(0)]
        assert [c.plain for c in first] == [ML_LABELS[0], "10", "0.4800", "0.6800"]
        assert first[3].style == "bold green" and first[2].style == ""
        table = screen.query_one("#overview-table", DataTable)
        table.move_cursor(row=0)
        await pilot.press("b")  # a baseline: the labels show their differences to it
        await pilot.pause(0.05)
        row = [c.plain for c in screen.query_one("#labels-table", DataTable).get_row_at(0)]
        assert row[2:] in (["0.4800 (+0.0000)", "0.6800 (+0.2000)"], ["0.4800 (-0.2000)", "0.6800 (+0.0000)"])


def test_each_labels_difference_to_the_baseline_is_tested_and_marked(tmp_path):
    """`compare --per-label --baseline`: each label's F1 difference is tested as a metric is (the
    paired bootstrap, Holm over every label), equals the table's delta, and is starred when
    significant; the report's per-label block does the same against its baseline."""
    import json

    from tests.helpers.fixture_runs import ML_LABELS, write_run_with_predictions

    weak = write_run_with_predictions(tmp_path, "ml-lora-20260301T120000Z", 0.1, 1)
    strong = write_run_with_predictions(tmp_path, "ml-ia3-20260301T130000Z", 0.95, 2)
    args = ["compare", str(weak), str(strong), "--per-label", "--baseline", str(weak)]
    proc = peftspec(tmp_path, *args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {(r["label"], r["name"]): r for r in json.loads(proc.stdout)}
    base = {label: rows[(label, "ml-lora")]["f1"] for label in ML_LABELS}
    for label in ML_LABELS:
        row = rows[(label, "ml-ia3")]
        assert row["f1_delta"] == pytest.approx(row["f1"] - base[label], abs=1e-6)  # the table's figure
        assert row["f1_low"] <= row["f1_delta"] <= row["f1_high"] and row["f1_p_holm"] >= row["f1_p"]
        assert row["f1_significant"]  # 40 rows scored near-perfectly against near-chance
    md = peftspec(tmp_path, *args, "--format", "markdown").stdout
    assert md.count(")** * |") == len(ML_LABELS) and "Holm's correction for 3 comparisons" in md
    untested = peftspec(tmp_path, *args, "--no-significance", "--format", "markdown").stdout
    assert ")** * |" not in untested and "No test stands behind these differences" in untested
    report = peftspec(tmp_path, "report", str(weak), str(strong), "--baseline", str(weak), "-o", "rep")
    assert report.returncode == 0, report.stderr
    section = (tmp_path / "rep" / "report.md").read_text().split("### Per label (test)")[1].split("###")[0]
    assert section.count(") \\***") == len(ML_LABELS) and "each label of each run one comparison" in section

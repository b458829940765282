"""Damaged run directories (wrong types, binary bytes, NaN, nonsense values in every run file): every
reader warns and carries on. `runs`, `runs --gc`, `compare` in every format, `report` and the TUI."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from peftspec.cli import main
from tests.helpers.fixture_runs import write_run

DAMAGE = {
    "record-types": {
        "run.json": {
            "status": 5,
            "best": "f1",
            "overview": [],
            "labels": "abc",
            "rows": {"train": "many"},
            "duration_s": "long",
            "steps": "abc",
            "resumed": "yesterday",
            "error": ["boom"],
        }
    },
    "record-not-object": {"run.json": [1, 2, 3]},
    "record-deep": {"run.json": "[" * 5000 + "]" * 5000},
    "eval-types": {
        "eval.json": {
            "validation": [1, 2],
            "test": {"f1_macro": "high", "per_label": "x", "at_threshold_0.5": 3, "health": "bad"},
            "thresholds": "tuned",
            "warnings": "not a list",
        }
    },
    "eval-per-label-rows": {
        "eval.json": {"validation": {"f1_macro": 0.5, "per_label": {"joy": "great", "anger": {"f1": "x"}}}}
    },
    "eval-nan": {"eval.json": '{"validation": {"f1_macro": NaN, "loss": Infinity}}'},
    "confusion-types": {
        "confusion.json": {
            "validation": {"kind": "per_label", "matrices": "x", "labels": 3},
            "test": {"kind": "matrix", "matrix": [[1, "a"], [2]], "labels": ["a", "b"]},
        }
    },
    "thresholds-types": {"thresholds.json": [1, 2]},
    "stream-garbage": {
        "metrics.jsonl": b'\xff\xfe\x00binary\nnull\n[1]\n{"event": "train", "step": "abc", "loss": "x"}\n'
        b'{"event": "eval", "step": 2, "f1_macro": "high", "per_label": [1], "health": "bad"}\n'
        b'{"event": "train", "step": 4, "loss": 0.5}\n'
    },
    "spec-binary": {"spec.toml": b"\x00\xff\xfe not toml"},
}


def damaged_root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    for n, (name, files) in enumerate(sorted(DAMAGE.items())):
        run = write_run(root, f"{name}-20260301T12{n:02d}00Z", quality=0.5)
        for file, content in files.items():
            path = run / file
            if isinstance(content, bytes):
                path.write_bytes(content)
            elif isinstance(content, str):
                path.write_text(content)
            else:
                path.write_text(json.dumps(content))
    return root


def call(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_every_command_reads_every_damaged_run(tmp_path: Path):
    root = damaged_root(tmp_path)
    runs = sorted(p for p in root.iterdir())
    code, out, _ = call("runs", str(root))
    assert code == 0 and f"{len(runs)} run(s) in" in out  # every damaged run is listed
    assert call("runs", str(root), "--gc", "--yes")[0] == 0
    for run in runs:
        for fmt in ("table", "markdown", "csv", "json"):
            code, out, err = call("compare", str(run), "--format", fmt)
            assert code == 0, (run.name, fmt, err)
            if fmt == "json":
                rows = strict_json(out)
                assert all(not (isinstance(v, float) and not math.isfinite(v)) for v in rows[0].values())
    code, _, err = call("report", *map(str, runs), "-o", str(tmp_path / "report"))
    assert code == 0, err
    text = (tmp_path / "report" / "report.md").read_text()
    assert all(r.name in text for r in runs)
    assert "warning" in err  # the damage is reported, not hidden


async def test_the_tui_opens_every_damaged_run(tmp_path: Path):
    from peftspec.tui.app import PeftspecApp
    from peftspec.tui.screens.compare import CompareScreen
    from peftspec.tui.screens.run import RunScreen
    from tests.helpers.pilot import loaded_compare_screen, loaded_run_screen

    root = damaged_root(tmp_path)
    runs = sorted(root.iterdir())
    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=(120, 40)) as pilot:
        for run in runs:
            app.push_screen(RunScreen(run))
            screen = await loaded_run_screen(pilot)
            assert screen.detail.path == run
            for pane in ("curves", "confusion", "labels", "spec", "facts"):
                screen.query_one("TabbedContent").active = pane
                await pilot.pause(0.02)
            await pilot.press("m", "n", "t")
            app.pop_screen()
            await pilot.pause(0.05)
        app.push_screen(CompareScreen(runs))
        await loaded_compare_screen(pilot, len(runs))
        await pilot.press("b", "m")
        await pilot.pause(0.1)
        assert app.is_running  # nothing brought the app down

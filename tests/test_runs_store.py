"""The run directory: atomic writes, an append-only log, and a reader that tolerates damage."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peftspec.runs import list_runs, new_run_dir, read_run
from peftspec.runs.reader import read_jsonl
from peftspec.runs.writer import RunWriter, atomic_write_json


def test_runs_started_in_the_same_second_get_distinct_folders(tmp_path: Path):
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    a, b = new_run_dir(tmp_path, "exp", now), new_run_dir(tmp_path, "exp", now)
    assert a.root != b.root and a.root.name == "exp-20260102T030405Z" and b.root.name.endswith("-2")


def test_atomic_write_leaves_no_temp_files(tmp_path: Path):
    atomic_write_json(tmp_path / "x.json", {"a": float("nan"), "b": 1})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": None, "b": 1}
    assert os.listdir(tmp_path) == ["x.json"]
    assert (tmp_path / "x.json").stat().st_mode & 0o044  # readable by others, like any file


def test_writer_and_reader_round_trip(tmp_path: Path):
    paths = new_run_dir(tmp_path, "r")
    writer = RunWriter(paths)
    writer.update_info(status="running", heartbeat_at=datetime.now(UTC).isoformat())
    writer.log({"event": "train", "step": 1, "loss": 0.5})
    writer.log({"event": "eval", "step": 1, "f1_macro": 0.25})
    writer.close()
    run = read_run(paths.root)
    assert run.status == "running" and [r["event"] for r in run.metrics()] == ["train", "eval"]
    assert run.eval() is None and run.warnings == []
    assert [r.name for r in list_runs(tmp_path)] == [paths.name]


def test_truncated_last_line_is_held_back(tmp_path: Path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1}\n{"step": 2}\n{"st')
    chunk = read_jsonl(log)
    assert [r["step"] for r in chunk.records] == [1, 2]
    with open(log, "a") as fh:
        fh.write('ep": 3}\n')
    later = read_jsonl(log, chunk.offset)
    assert [r["step"] for r in later.records] == [3] and later.offset == log.stat().st_size


def test_damaged_files_warn_and_carry_on(tmp_path: Path):
    run_dir = tmp_path / "broken"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{not json")
    (run_dir / "metrics.jsonl").write_text('{"step": 1}\ngarbage\n{"step": 2}\n')
    run = read_run(run_dir)
    assert run.info == {} and run.status == "unknown"
    assert [r["step"] for r in run.metrics()] == [1, 2]
    assert any("run.json" in w for w in run.warnings) and any("unreadable line" in w for w in run.warnings)


def test_stale_running_run_reads_as_crashed(tmp_path: Path):
    paths = new_run_dir(tmp_path, "r")
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    atomic_write_json(paths.run_json, {"status": "running", "heartbeat_at": old})
    assert read_run(paths.root).status == "crashed"


def test_reader_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys, peftspec.runs; peftspec.runs.list_runs('.'); "
        "print(any(m in sys.modules for m in ('torch', 'transformers', 'peft')))"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )

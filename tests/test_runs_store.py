"""The run directory: atomic writes, an append-only log, and a reader that tolerates damage."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peftspec.runs import list_runs, new_run_dir, read_run
from peftspec.runs.record import RunRecord
from peftspec.runs.stream import read_jsonl
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
    writer.update(status="running", heartbeat_at=datetime.now(UTC).isoformat())
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


def test_a_stream_a_resume_cuts_back_is_read_again_by_who_was_following_it(tmp_path: Path):
    """A resume trims metrics.jsonl to its checkpoint's step by replacing the file, then replays:
    a reader that had followed the old file (a sweep worker reporting each evaluation, the TUI)
    reads the new one from its start, not from its old offset, which would skip what the replay
    wrote below it (a sweep lost a trial's step-6 evaluation this way)."""
    from peftspec.runs.writer import trim_metrics

    paths = new_run_dir(tmp_path, "r")
    writer = RunWriter(paths)
    for step in range(1, 7):  # killed after step 6, with a checkpoint at 4
        writer.log({"event": "train", "step": step, "loss": 1.0 / step})
        if step % 2 == 0:
            writer.log({"event": "eval", "step": step, "loss": 1.0 / step})
    writer.close()
    following = read_run(paths.root).stream
    assert [r["step"] for r in following.evals] == [2, 4, 6]
    trim_metrics(paths, 4)  # as peftspec.train.resume does, then a writer of its own
    writer = RunWriter(paths)
    for step in range(5, 13):  # the replay goes on: the file outgrows the old offset
        writer.log({"event": "train", "step": step, "loss": 1.0 / step, "learning_rate": 1e-4})
        if step % 2 == 0:
            writer.log({"event": "eval", "step": step, "loss": 0.5 / step, "f1_macro": 0.5})
    writer.close()
    assert paths.metrics.stat().st_size > following.offset
    new = following.tail()
    assert [(r["event"], r["step"]) for r in following.records] == [
        (r["event"], r["step"]) for r in read_run(paths.root).metrics()
    ]
    assert [r["step"] for r in following.evals] == [2, 4, 6, 8, 10, 12]
    assert following.evals[2]["loss"] == 0.5 / 6  # the replayed evaluation, not the one cut off
    assert new == following.records  # read again: what it returns replaces what came before


def test_damaged_files_warn_and_carry_on(tmp_path: Path):
    run_dir = tmp_path / "broken"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{not json")
    (run_dir / "metrics.jsonl").write_text('{"step": 1}\ngarbage\n{"step": 2}\n')
    run = read_run(run_dir)
    assert run.record == RunRecord() and run.status == "unknown"
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


def test_record_is_strict_on_write(tmp_path: Path):
    import pytest

    writer = RunWriter(new_run_dir(tmp_path, "r"))
    with pytest.raises(TypeError, match="not fields of the run record: stauts"):
        writer.update(stauts="running")
    record = writer.update(status="running", best={"metric": "f1_macro", "value": 0.5, "step": 4})
    assert record.best.step == 4 and record.record_version == RunRecord().record_version


def test_record_is_tolerant_on_read(tmp_path: Path):
    run_dir = tmp_path / "old"
    run_dir.mkdir()
    atomic_write_json(
        run_dir / "run.json",
        {
            "schema": 1,  # a version-1 record: `schema` and `plan`
            "status": "completed",
            "plan": {"adapter": "lora r=8 on query", "trainable_parameters": "many"},
            "best": {"metric": "f1_macro", "step": "abc"},
            "resumed": [{"from_step": 4}, "garbage"],
            "steps": 12,
            "from_the_future": {"x": 1},
        },
    )
    run = read_run(run_dir)
    record = run.record
    assert record.record_version == 1 and record.status == "completed" and record.steps == 12
    assert record.overview.adapter == "lora r=8 on query" and record.overview.trainable_parameters is None
    assert record.best.metric == "f1_macro" and record.best.step is None
    assert [r.from_step for r in record.resumed] == [4]
    assert record.stored()["from_the_future"] == {"x": 1}  # kept, and written back as it was
    joined = "\n".join(run.warnings)
    for expected in ("trainable_parameters", "best: step", "resumed[1]", "'from_the_future'"):
        assert expected in joined, joined


def test_a_record_that_is_not_an_object_reads_as_unknown(tmp_path: Path):
    run_dir = tmp_path / "list"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("[1, 2]")
    (run_dir / "metrics.jsonl").write_bytes(b'{"step": 1}\n\xff\xfe binary\nnull\n{"step": 2}\n')
    run = read_run(run_dir)
    assert run.status == "unknown" and [r["step"] for r in run.metrics()] == [1, 2]
    assert any("not a JSON object" in w for w in run.warnings)


def test_a_crashed_runs_step_comes_from_its_stream_and_checkpoints(tmp_path: Path):
    paths = new_run_dir(tmp_path, "r")
    writer = RunWriter(paths)
    writer.update(status="running", step=1, heartbeat_at="2026-01-01T00:00:00+00:00")
    for step in (2, 4, 6, 8):
        writer.log({"event": "train", "step": step, "loss": 0.5})
    writer.close()
    (paths.checkpoint(4)).mkdir(parents=True)
    run = read_run(paths.root)
    assert run.status == "crashed" and run.last_step == 8


def test_the_runs_listing_keeps_a_line_per_run_in_80_columns(tmp_path):
    """A long run name stays whole and each run one line; the start time, which the name holds
    too, is what gives way in a narrow terminal."""
    import io

    from rich.console import Console

    from peftspec.runs import list_runs
    from peftspec.runs.listing import runs_table
    from tests.helpers.fixture_runs import write_run

    for name in ("qwen-7b-qlora-sweep-t017-20260301T120000Z", "qwen-20260302T120000Z"):
        write_run(tmp_path, name)
    runs = list_runs(tmp_path)

    def shown(width):
        console = Console(file=io.StringIO(), width=width)
        console.print(runs_table(runs, str(tmp_path), width))
        return console.file.getvalue().splitlines()

    narrow = shown(80)
    assert all(len(line) <= 80 for line in narrow) and "started (UTC)" not in "".join(narrow)
    assert sum("qwen-7b-qlora-sweep-t017-20260301T120000Z" in line for line in narrow) == 1
    assert len([line for line in narrow if line.startswith("│")]) == 2  # one line a run
    wide = shown(120)
    assert "started (UTC)" in wide[2] and any("2026-03-01 12:00" in line for line in wide)


def test_the_runs_listing_names_each_runs_group_by_the_id_that_selects_it(tmp_path):
    """A run of `--seeds`/`--folds` shows its group's id and what it is in it; the id given to
    compare names the whole group. The group column gives way after the start time."""
    import io

    from rich.console import Console

    from peftspec.runs import list_runs, resolve_runs
    from peftspec.runs.listing import runs_json, runs_table
    from tests.helpers.fixture_runs import write_run

    group = {"id": "cv-g20260301T115959Z", "size": 2, "folds": 2, "varies": ["dataset.fold"]}
    for fold in range(2):
        path = write_run(tmp_path, f"cv-20260301T12000{fold}Z")
        record = json.loads((path / "run.json").read_text())
        record["group"] = {**group, "index": fold}
        (path / "run.json").write_text(json.dumps(record))
    write_run(tmp_path, "cv-20260301T120005Z")  # the same spec, alone
    runs = list_runs(tmp_path)
    listed = {row["name"]: (row["group"], row["member"]) for row in json.loads(runs_json(runs))}
    assert listed == {
        "cv-20260301T120000Z": ("cv-g20260301T115959Z", "fold 0"),
        "cv-20260301T120001Z": ("cv-g20260301T115959Z", "fold 1"),
        "cv-20260301T120005Z": (None, None),
    }
    assert [p.name for p in resolve_runs(["cv-g20260301T115959Z"], tmp_path)] == [
        "cv-20260301T120000Z",
        "cv-20260301T120001Z",
    ]

    def shown(width):
        console = Console(file=io.StringIO(), width=width or 1000)  # None: piped, every column
        console.print(runs_table(runs, str(tmp_path), width))
        return console.file.getvalue()

    assert "cv-g20260301T115959Z fold 1" in shown(None) and "started (UTC)" in shown(None)
    assert "cv-g20260301T115959Z fold 1" in shown(90) and "started (UTC)" not in shown(90)
    assert "group" not in shown(60) and "cv-20260301T120001Z" in shown(60)

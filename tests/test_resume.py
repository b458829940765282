"""Nothing lost: runs killed with SIGKILL at several points, resumed each time, end exactly as an
uninterrupted run; truncated checkpoints are skipped; SIGINT/SIGTERM stop with a checkpoint;
resume refuses a changed spec or data; one process per run directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peftspec.runs import read_run
from tests.helpers.cli import peftspec as in_process
from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

VOLATILE = {"time", "runtime", "samples_per_second", "steps_per_second"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return make_tiny_workspace(tmp_path_factory.mktemp("resume"))


def write_spec(workspace: Path, name: str, epochs: int = 2, extra: str = "") -> Path:
    trainer = (
        f'epochs = {epochs}\nbatch_size = 16\nlearning_rate = 5e-3\neval_strategy = "steps"\n'
        f"eval_steps = 4\nsave_steps = 4\nsave_total_limit = 10\nlogging_steps = 1\n{extra}"
    )
    return write_tiny_lora_spec(workspace, name, dropout=0.1, trainer=trainer)


def peftspec(workspace: Path, *args: str, fault: str | None = None, check: bool = False):
    env = {k: v for k, v in os.environ.items() if k != "PEFTSPEC_FAULT"}
    if fault:
        env["PEFTSPEC_FAULT"] = fault
    proc = subprocess.run(
        [sys.executable, "-m", "peftspec", "run", *args],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def the_run(workspace: Path, name: str) -> Path:
    (run,) = sorted((workspace / f"runs-{name}").iterdir())
    return run


def records(run: Path) -> list[dict]:
    """metrics.jsonl without wall-clock fields and without `train_end` (its runtime and the mean
    loss of the last process's share of the steps differ by nature)."""
    out = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["event"] != "train_end":
            out.append({k: v for k, v in record.items() if k not in VOLATILE})
    return out


def adapter_weights(run: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(run / "adapter" / "adapter_model.safetensors")


def final_metrics(run: Path) -> dict:
    evaluation = json.loads((run / "eval.json").read_text())
    return {
        split: {k: v for k, v in evaluation[split].items() if k not in VOLATILE}
        for split in ("validation", "test")
    }


def assert_same_run(a: Path, b: Path) -> None:
    import torch

    wa, wb = adapter_weights(a), adapter_weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key  # bitwise: CPU math is deterministic here
    assert final_metrics(a) == final_metrics(b)
    assert records(a) == records(b)


@pytest.fixture(scope="module")
def baseline_process(workspace) -> subprocess.CompletedProcess:
    """`peftspec run` of the spec, uninterrupted, in a process of its own."""
    return peftspec(workspace, str(write_spec(workspace, "base")), check=True)


@pytest.fixture(scope="module")
def baseline(workspace, baseline_process) -> Path:
    return the_run(workspace, "base")


def test_a_run_says_nothing_in_the_libraries_voice(baseline_process):
    """What a run prints is peftspec's: no load report, deprecation or hint from the libraries,
    including what they say while being imported (bitsandbytes, imported by peft, tells a CPU with
    AVX512-BF16 to `pip install kernels`; the CLI quiets their loggers before importing them)."""
    said = baseline_process.stdout + baseline_process.stderr
    for chatter in ("kernels-community", "LOAD REPORT", "FutureWarning", "DeprecationWarning"):
        assert chatter not in said


def kept_up_to(metrics: bytes, step: int) -> bytes:
    """The lines of metrics.jsonl that a resume from `step` must keep, byte for byte."""
    lines = [line for line in metrics.splitlines(keepends=True) if line.endswith(b"\n")]
    return b"".join(line for line in lines if json.loads(line)["step"] <= step)


def test_killed_at_a_step_a_checkpoint_write_and_an_evaluation_resumes_to_the_same_run(workspace, baseline):
    spec = write_spec(workspace, "faults")
    first = peftspec(workspace, str(spec), fault="step:6")  # after backward, before the optimizer step
    assert first.returncode == -signal.SIGKILL
    run = the_run(workspace, "faults")
    assert read_run(run).record.status == "running"  # as a SIGKILL leaves it: shown crashed once stale
    lost, outputs = [], []
    for fault in ("save:8", "eval:12", None):  # mid checkpoint write, mid evaluation, then to the end
        before = (run / "metrics.jsonl").read_bytes()
        proc = peftspec(workspace, "--resume", str(run), fault=fault)
        outputs.append(proc.stdout)
        assert proc.returncode == (-signal.SIGKILL if fault else 0), proc.stderr[-3000:]
        step = read_run(run).record.resumed[-1].from_step
        must_keep = kept_up_to(before, step)
        after = (run / "metrics.jsonl").read_bytes()
        same = next((i for i, (x, y) in enumerate(zip(must_keep, after, strict=False)) if x != y), None)
        lost.append(len(must_keep) - (min(len(must_keep), len(after)) if same is None else same))
    assert "skipping checkpoint-8: not marked complete" in outputs[1]  # the write that was cut short
    record = read_run(run).record
    assert record.status == "completed" and [r.from_step for r in record.resumed] == [4, 4, 8]
    assert [r.previous_status for r in record.resumed] == ["crashed"] * 3  # killed, not still "running"
    assert_same_run(baseline, run)  # weights bitwise, final metrics, metrics.jsonl: no line lost or doubled
    assert lost == [0, 0, 0]


def test_a_truncated_checkpoint_is_skipped_and_the_previous_one_used(workspace, baseline):
    spec = write_spec(workspace, "trunc")
    assert peftspec(workspace, str(spec), fault="step:10").returncode == -signal.SIGKILL
    run = the_run(workspace, "trunc")
    newest = run / "checkpoints" / "checkpoint-8"
    weights = newest / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # a disk that lost the end of the file
    proc = in_process(workspace, "run", "--resume", str(run))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "skipping checkpoint-8" in proc.stdout and "truncated" in proc.stdout
    assert read_run(run).record.resumed[0].from_step == 4
    assert_same_run(baseline, run)


def _start(workspace: Path, spec: Path):
    env = {k: v for k, v in os.environ.items() if k != "PEFTSPEC_FAULT"}
    return subprocess.Popen(
        [sys.executable, "-m", "peftspec", "run", str(spec)],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_step(workspace: Path, name: str, step: int, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        folder = workspace / f"runs-{name}"
        runs = sorted(folder.iterdir()) if folder.is_dir() else []
        if runs and (runs[0] / "metrics.jsonl").exists():
            steps = [
                json.loads(line).get("step", 0)
                for line in (runs[0] / "metrics.jsonl").read_text().splitlines()
            ]
            if steps and max(steps) >= step:
                return runs[0]
        time.sleep(0.05)
    raise AssertionError(f"{name} never reached step {step}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_after_the_step_with_a_checkpoint_and_a_resume_hint(workspace, baseline, sig):
    from peftspec.runs.checkpoints import newest_complete

    name = f"sig{int(sig)}"
    spec = write_spec(workspace, name, epochs=20)
    proc = _start(workspace, spec)
    run = _wait_for_step(workspace, name, 3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err[-2000:]
    assert f"peftspec run --resume {run.relative_to(workspace)}" in " ".join(err.split())
    record = read_run(run).record
    assert record.status == "interrupted" and record.error.resume.startswith("peftspec run --resume")
    scan = newest_complete(run / "checkpoints")
    assert scan.step >= 3 and f"stopped after step {scan.step} with a checkpoint" in record.error.message
    # it resumes from there, with more epochs than it has time for here: stop it by max_steps
    done = in_process(
        workspace,
        "run",
        str(write_spec(workspace, name, epochs=20, extra="max_steps = " + str(scan.step + 2))),
        "--resume",
        str(run),
        "--force",
        "trainer.max_steps",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert read_run(run).record.status == "completed"


def test_resume_refuses_a_changed_spec_or_changed_data_and_says_what_changed(workspace):
    spec = write_spec(workspace, "changed")
    assert peftspec(workspace, str(spec), fault="step:6").returncode == -signal.SIGKILL
    run = the_run(workspace, "changed")
    # the rest in this process (only a SIGKILL needs a process of its own): no import per command
    changed = write_spec(workspace, "changed", extra='lr_scheduler = "cosine"')
    proc = in_process(workspace, "run", str(changed), "--resume", str(run))
    assert proc.returncode == 1
    text = " ".join(proc.stderr.split())
    assert 'trainer.lr_scheduler: "linear" -> "cosine"' in text and "--force trainer.lr_scheduler" in text
    data = workspace / "train.csv"
    original = data.read_bytes()
    try:
        data.write_bytes(original.replace(b"happy", b"glad", 1))
        proc = in_process(workspace, "run", "--resume", str(run))
        assert proc.returncode == 1 and "the data changed" in proc.stderr and "train.csv" in proc.stderr
    finally:
        data.write_bytes(original)
    # by a name prefix under --root, as predict and compare name runs
    assert in_process(workspace, "run", "--resume", "changed", "--root", str(run.parent)).returncode == 0
    again = in_process(workspace, "run", "--resume", str(run))
    assert again.returncode == 0 and "already completed; nothing to resume" in again.stdout


def test_one_process_per_run_directory(tmp_path):
    from peftspec.runs.lock import RunLock, RunLocked

    with RunLock(tmp_path):
        code = (
            "import sys; from peftspec.runs.lock import RunLock, RunLocked\n"
            f"try:\n    RunLock({str(tmp_path)!r}).__enter__()\n"
            "except RunLocked as e:\n    print(e); sys.exit(3)"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 3 and f"in use by process {os.getpid()}" in proc.stdout
    with RunLock(tmp_path):  # released: free again
        pass
    with pytest.raises(RunLocked), RunLock(tmp_path), RunLock(tmp_path):
        pass


def test_runs_started_in_the_same_second_get_distinct_folders(tmp_path):
    from concurrent.futures import ProcessPoolExecutor
    from datetime import UTC, datetime

    from peftspec.runs.layout import new_run_dir

    now = datetime(2026, 1, 1, tzinfo=UTC)
    with ProcessPoolExecutor(2) as pool:
        made = list(pool.map(new_run_dir, [tmp_path] * 8, ["same"] * 8, [now] * 8))
    assert len({p.root for p in made}) == 8


def _checkpoints(run: Path, steps: list[int]) -> None:
    from peftspec.runs.checkpoints import mark_complete

    for step in steps:
        folder = run / "checkpoints" / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / "adapter_model.safetensors").write_bytes(b"x" * 1000)
        mark_complete(folder, step)


def test_runs_lists_crashed_runs_and_gc_keeps_the_best_and_the_latest(tmp_path, capsys):
    from datetime import UTC, datetime

    from peftspec.cli import main
    from tests.helpers.fixture_runs import write_run

    done = write_run(tmp_path, "done-20260301T120000Z")
    info = json.loads((done / "run.json").read_text())
    info["best"] = {"metric": "f1_macro", "step": 8, "checkpoint": "checkpoints/checkpoint-8"}
    (done / "run.json").write_text(json.dumps(info))
    _checkpoints(done, [4, 8, 12, 16])
    old = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    crashed = write_run(
        tmp_path, "killed-20260303T120000Z", status="running", steps=20, start=old, heartbeat=old
    )
    _checkpoints(crashed, [4, 8])
    assert main(["runs", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "killed-20260303T120000Z" in listing and "crashed" in listing
    assert "started (UTC)" in listing and "2026-03-03 12:00" in listing  # whole, in 80 columns
    assert main(["runs", str(tmp_path), "--format", "json"]) == 0  # for scripts: what to resume
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["killed-20260303T120000Z"]["status"] == "crashed"
    assert listed["killed-20260303T120000Z"]["resume"] == f"peftspec run --resume {crashed}"
    assert listed["killed-20260303T120000Z"]["checkpoints"] == 2
    assert listed["done-20260301T120000Z"]["status"] == "completed"
    assert listed["done-20260301T120000Z"]["resume"] is None and listed["done-20260301T120000Z"]["step"] == 40
    assert main(["runs", str(tmp_path), "--gc"]) == 0  # not a terminal, no --yes: shows, removes nothing
    shown = capsys.readouterr().out
    assert "checkpoint-4" in shown and "checkpoint-12" in shown and "Nothing removed" in shown
    assert (done / "checkpoints" / "checkpoint-4").exists()
    assert main(["runs", str(tmp_path), "--gc", "--yes"]) == 0
    left = sorted(p.name for p in (done / "checkpoints").iterdir())
    assert left == ["checkpoint-16", "checkpoint-8"]  # the latest and the best
    assert sorted(p.name for p in (crashed / "checkpoints").iterdir()) == ["checkpoint-4", "checkpoint-8"]


def test_a_hub_split_is_compared_when_recorded_and_not_held_against_older_records():
    from peftspec.build.resume import ResumeRefused, check_data_unchanged

    now = {"train.csv": "a", "hub:org/x[test]": "h2"}
    check_data_unchanged({"train.csv": "a"}, now, [])  # recorded before hub splits were hashed
    with pytest.raises(ResumeRefused) as info:
        check_data_unchanged({"train.csv": "a", "hub:org/x[test]": "h1"}, now, [])
    assert info.value.problems == ["hub:org/x[test]"]
    with pytest.raises(ResumeRefused):
        check_data_unchanged({"train.csv": "b"}, now, [])

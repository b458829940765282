"""`peftspec sweep` on a tiny model, for real: two workers in separate processes share one study
(a journal file, then a PostgreSQL server started here); one is killed with SIGKILL mid-trial and
started again. Exactly N trials end in the study, the interrupted one resumed from its checkpoint,
no trial's metrics lost or doubled. Plus lint of a sweep spec and the pruner's SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peftspec.runs import newest_complete, read_run, run_dirs
from peftspec.runs.stream import step_of
from tests.helpers.cli import peftspec
from tests.helpers.postgres import binaries, postgres_server
from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

optuna = pytest.importorskip("optuna")

TRIALS = 6
TRAINER = """epochs = 1
batch_size = 16
learning_rate = 5e-3
eval_strategy = "steps"
eval_steps = 2
save_strategy = "steps"
save_steps = 2
save_total_limit = 1
load_best_model_at_end = false
"""
SWEEP = f"""
[sweep]
trials = {TRIALS}
metric = "loss"
pruner = "median"
seed = 3

[sweep.space]
"trainer.learning_rate" = {{ log_uniform = [1e-4, 1e-2] }}
"adapter.r" = {{ choice = [2, 4] }}
"""


@pytest.fixture
def workspace(tmp_path) -> Path:
    root = make_tiny_workspace(tmp_path)
    write_tiny_lora_spec(root, "sw", dropout=0.0, trainer=TRAINER, tail=SWEEP)
    return root


def worker(root: Path, *args: str) -> subprocess.Popen:
    """`peftspec sweep sw.toml ARGS` in a process group of its own (killed as a machine would be)."""
    log = open(root / f"worker-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "peftspec", "sweep", "sw.toml", *args],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(what: str, ready, timeout: float = 240.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = ready()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def study_of(storage) -> optuna.Study:
    from peftspec.sweep.storage import open_storage

    if isinstance(storage, str):  # opened as a worker opens it, while the workers create the tables
        storage = open_storage(storage, Path("unused"))
    return optuna.load_study(study_name="sw", storage=storage)


def journal(root: Path):
    from peftspec.sweep.storage import open_storage

    return open_storage(None, root / "runs-sw" / "sw-sweep")


def trial_with_checkpoint(root: Path):
    """A run of a trial that is still training and has a complete checkpoint."""
    for path in run_dirs(root / "runs-sw") if (root / "runs-sw").is_dir() else []:
        run = read_run(path)
        if (
            run.record.trial
            and run.record.status == "running"
            and newest_complete(run.paths.checkpoints).newest
        ):
            return run
    return None


def kill_and_restart(root: Path, storage_args: list[str], storage) -> None:
    """Worker A starts the study, worker B joins; A is killed mid-trial with SIGKILL (its run
    too), then started again; both run until the study has no trial left."""
    a = worker(root, *storage_args)
    wait_for("the study", lambda: _exists(storage))
    b = worker(root, *storage_args, "--join")
    victim = wait_for("a trial with a checkpoint", lambda: trial_with_checkpoint(root))
    owner = _trial_of(storage, victim)
    killed = a if owner.user_attrs["worker"].endswith(f":{a.pid}") else b
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    again = worker(root, *storage_args)
    for process in (again, a if killed is b else b):
        assert process.wait(timeout=600) == 0, _logs(root)
    _check_study(root, storage, victim.name)


def _exists(storage) -> bool:
    try:
        return len(study_of(storage).trials) == TRIALS
    except KeyError:
        return False


def _trial_of(storage, run):
    number = run.record.trial["number"]
    return next(t for t in study_of(storage).trials if t.number == number)


def _logs(root: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in root.glob("worker-*.log"))


def _check_study(root: Path, storage, victim: str) -> None:
    study = study_of(storage)
    trials = study.trials
    assert len(trials) == TRIALS, [t.state for t in trials]  # the budget held across workers and the kill
    states = {t.state.name for t in trials}
    assert states <= {"COMPLETE", "PRUNED"}, states
    run_folders = [t.user_attrs["run_dir"] for t in trials]
    assert len(set(run_folders)) == TRIALS  # one run per trial, none started twice
    resumed = [t for t in trials if t.user_attrs.get("resumed_by")]
    assert len(resumed) == 1 and Path(resumed[0].user_attrs["run_dir"]).name == victim
    victim_run = read_run(resumed[0].user_attrs["run_dir"])
    assert victim_run.record.resumed and victim_run.record.resumed[0].previous_status == "crashed"
    for trial in trials:
        run = read_run(trial.user_attrs["run_dir"])
        steps = [e["step"] for e in run.stream.evals]
        assert len(steps) == len(set(steps)), (trial.number, steps)  # none doubled by the resume
        assert run.record.trial["number"] == trial.number
        if trial.state.name == "COMPLETE":
            assert run.status == "completed"
            assert trial.value == pytest.approx(run.split_metrics("validation")["loss"])
            assert sorted(trial.intermediate_values) == steps  # every evaluation reported, once
        else:
            assert run.status == "interrupted" and run.record.trial["state"] == "pruned"
            assert newest_complete(run.paths.checkpoints).newest is not None  # pruned with a checkpoint


@pytest.mark.timeout(900)
def test_two_workers_on_a_journal_survive_a_sigkill(workspace, tmp_path):
    kill_and_restart(workspace, [], journal(workspace))
    table = peftspec(workspace, "sweep", "sw.toml")  # nothing left to run: prints the study
    assert table.returncode == 0 and "best: trial" in table.stdout
    drawn = re.findall(r"trainer\.learning_rate = ([^,\s]+)", _logs(workspace))  # as the table shows them
    assert drawn and all(len(v.lstrip("0.").replace(".", "").split("e")[0]) <= 4 for v in drawn), drawn
    best = study_of(journal(workspace)).best_trial
    # compare accepts the best trial by name
    rows = json.loads(
        peftspec(workspace, "compare", "sw:best", "--root", "runs-sw", "--format", "json").stdout
    )
    assert [r["run"] for r in rows] == [Path(best.user_attrs["run_dir"]).name]
    # the sweep's report: trials, the three figures, the best trial's own report
    proc = peftspec(workspace, "report", "runs-sw/sw-sweep", "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "rep" / "report.md").read_text()
    assert f"{TRIALS} trials in journal" in md and f"## Best trial: {best.number}" in md
    for image in ("history.png", "importances.png", "parallel.png"):
        assert (tmp_path / "rep" / "img" / image).stat().st_size > 1000, image
        assert (tmp_path / "rep" / "img" / image).with_suffix(".pdf").stat().st_size > 1000, image
    assert r"\includegraphics" in (tmp_path / "rep" / "report.tex").read_text()
    assert md.count("| complete") + md.count("| pruned") == TRIALS and "(resumed)" in md
    # the TUI's sweep view: every trial, the best so far, a trial opens its run
    import asyncio

    asyncio.run(_sweep_view(workspace / "runs-sw", best.number))


async def _sweep_view(root: Path, best: int) -> None:
    from textual.widgets import DataTable

    from peftspec.tui.app import PeftspecApp
    from peftspec.tui.screens.run import RunScreen
    from peftspec.tui.screens.sweep import SweepScreen
    from tests.helpers.pilot import loaded_run_screen, until

    app = PeftspecApp(root, refresh_every=5)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, SweepScreen), "the sweep view")
        table = app.screen.query_one("#trials", DataTable)
        await until(pilot, lambda: table.row_count == TRIALS, "every trial")
        rows = [[c.plain for c in table.get_row_at(i)] for i in range(TRIALS)]
        assert [int(r[1]) for r in rows] == list(range(TRIALS))
        assert sum("(resumed)" in r[2] for r in rows) == 1
        assert rows[best][3] == rows[-1][4]  # the best trial's value is the best so far at the end
        table.move_cursor(row=best)
        await pilot.press("enter")
        screen = await loaded_run_screen(pilot)
        assert isinstance(screen, RunScreen) and screen.detail.record.trial["number"] == best


@pytest.mark.slow  # the journal test kills a worker the same way; a minute: CI runs it (`pytest -m slow`)
@pytest.mark.timeout(900)
@pytest.mark.skipif(binaries() is None and not os.environ.get("CI"), reason="PostgreSQL is not installed")
def test_two_workers_on_postgresql_survive_a_sigkill(workspace):
    with postgres_server() as url:
        kill_and_restart(workspace, ["--storage", url], url)


@pytest.mark.skipif(binaries() is None and not os.environ.get("CI"), reason="PostgreSQL is not installed")
def test_workers_that_start_together_on_an_empty_postgresql_database_all_open_it(tmp_path):
    """Optuna creates its tables on first open; workers started at once (a job array) must not
    fail on each other's CREATE TYPE."""
    import threading

    from peftspec.sweep.storage import open_storage

    workers = 8
    with postgres_server() as url:
        start, failed = threading.Barrier(workers), []

        def open_it():
            start.wait()
            try:
                open_storage(url, tmp_path).get_all_studies()
            except Exception as exc:
                failed.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failed, failed


def test_lint_reports_a_misspelled_key_and_an_out_of_range_bound_at_their_lines(tmp_path):
    root = make_tiny_workspace(tmp_path)
    bad = (
        SWEEP.replace('"trainer.learning_rate"', '"trainer.learnign_rate"')
        + '"adapter.dropout" = { uniform = [0.0, 1.5] }\n'
        + '"trainer.lr" = { log_uniform = [1e-4, 1e-2] }\n'  # a Hugging Face script's name for it
        + '"trainer.max_seq_length" = { choice = [32, 64] }\n'  # an SFT script's, in another table
    )
    spec = write_tiny_lora_spec(root, "sw", dropout=0.0, trainer=TRAINER, tail=bad)
    lines = spec.read_text().splitlines()
    misspelled = next(i for i, line in enumerate(lines, 1) if "learnign" in line)
    dropout = next(i for i, line in enumerate(lines, 1) if "adapter.dropout" in line)
    proc = peftspec(root, "lint", "sw.toml", "--format", "json")
    assert proc.returncode == 1
    found = {(d["code"], d["line"]): d for d in json.loads(proc.stdout)["diagnostics"]}
    assert found[("unknown-key", misspelled)]["suggestion"] == "trainer.learning_rate"
    other_name = next(i for i, line in enumerate(lines, 1) if '"trainer.lr"' in line)
    assert found[("unknown-key", other_name)]["suggestion"] == "trainer.learning_rate"  # not lr_scheduler
    elsewhere = next(i for i, line in enumerate(lines, 1) if "max_seq_length" in line)
    assert found[("unknown-key", elsewhere)]["suggestion"] == "dataset.max_length"
    assert "adapter.dropout = 1.5" in found[("sweep-out-of-range", dropout)]["message"]
    grid = SWEEP.replace('pruner = "median"', 'sampler = "grid"')
    write_tiny_lora_spec(root, "grid", dropout=0.0, trainer=TRAINER, tail=grid)
    proc = peftspec(root, "lint", "grid.toml")
    assert proc.returncode == 1 and "a grid needs listed values" in proc.stdout


def test_a_spec_without_a_sweep_and_join_without_a_study_are_refused(workspace):
    plain = workspace / "plain.toml"
    plain.write_text((workspace / "sw.toml").read_text().split("[sweep]")[0])
    proc = peftspec(workspace, "sweep", "plain.toml")
    assert proc.returncode == 1 and "has no [sweep] table" in proc.stderr
    proc = peftspec(workspace, "sweep", "sw.toml", "--join")
    assert proc.returncode == 1 and "no study 'sw'" in proc.stderr and "to join" in proc.stderr


ADAPTERS = """
[sweep]
trials = 4

[sweep.space]
"trainer.learning_rate" = { log_uniform = [1e-4, 1e-2] }

[sweep.adapters.lora]
r = { choice = [2, 4] }
target_modules = ["query", "value"]

[sweep.adapters.ia3]
target_modules = ["query", "value", "output.dense"]
feedforward_modules = ["output.dense"]
"""


def test_adapter_kinds_are_searched_each_with_its_own_table(tmp_path):
    from peftspec.spec import check_spec, load_spec
    from peftspec.sweep.space import suggest

    root = make_tiny_workspace(tmp_path)
    spec_file = write_tiny_lora_spec(root, "kinds", dropout=0.0, trainer=TRAINER, tail=ADAPTERS)
    assert peftspec(root, "lint", "kinds.toml").returncode == 0
    sweep = load_spec(spec_file).sweep
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    kinds = set()
    for _ in range(8):
        trial = study.ask()
        values, sets = suggest(trial, sweep)
        result = check_spec(spec_file, sets)
        assert result.spec is not None, (sets, result.diagnostics)
        kind = values["adapter.kind"]
        kinds.add(kind)
        assert result.spec.adapter.kind == kind
        if kind == "lora":
            assert result.spec.adapter.r == values["adapter.r[lora]"] and "adapter.r[ia3]" not in values
        else:
            assert result.spec.adapter.feedforward_modules == ["output.dense"]
        study.tell(trial, 0.0)
    assert kinds == {"lora", "ia3"}
    bad = ADAPTERS.replace(
        'feedforward_modules = ["output.dense"]', 'feedforward_modules = ["output.dense"]\nr = 4'
    )
    write_tiny_lora_spec(root, "bad", dropout=0.0, trainer=TRAINER, tail=bad)
    proc = peftspec(root, "lint", "bad.toml")
    assert proc.returncode == 1 and "a trial drawing the ia3 table would not validate" in proc.stdout
    clash = ADAPTERS.replace(
        "[sweep.space]\n", '[sweep.space]\n"adapter.dropout" = { uniform = [0.0, 0.1] }\n'
    )
    write_tiny_lora_spec(root, "clash", dropout=0.0, trainer=TRAINER, tail=clash)
    proc = peftspec(root, "lint", "clash.toml")
    assert proc.returncode == 1 and "adapter keys belong in those tables" in proc.stdout


def test_a_trial_finds_its_run_by_its_record_when_the_run_cannot_say(tmp_path):
    """Under torchrun the run tells its own launcher where it is, not the sweep's worker: the worker
    finds the run directory whose record names its trial."""
    from peftspec.runs import RunWriter
    from peftspec.sweep.trial import TrialJob, _recorded
    from tests.helpers.fixture_runs import write_run

    for number in (0, 1):
        path = write_run(tmp_path / "runs", f"sw-t00{number}-20260301T120000Z")
        run = read_run(path)
        RunWriter(run.paths, run.record).update(trial={"study": "sw", "number": number})
    job = TrialJob("sw.toml", [], "loss", "validation", {"study": "sw", "number": 1}, tmp_path / "log")
    job.output_root, job.run_name = str(tmp_path / "runs"), "sw-t001"
    assert Path(_recorded(job)).name == "sw-t001-20260301T120000Z"
    job.record["number"], job.run_name = 2, "sw-t002"
    assert _recorded(job) is None


class _Exited:
    """A trial's process that has already exited with `code` (SIGTERM's 143: killed as it exited)."""

    def __init__(self, code: int):
        self.returncode, self.signals = code, []

    def poll(self):
        return self.returncode

    def send_signal(self, signum):
        self.signals.append(signum)


def test_a_prune_that_reaches_a_run_as_it_exits_completed_leaves_the_trial_complete(tmp_path):
    """The pruner's SIGTERM can land after the run recorded itself completed, as its process exits
    (exit code 143): the run's record decides, so the trial is complete with the run's value, not
    pruned with a completed run (a race the PostgreSQL sweep test met)."""
    from peftspec.sweep.trial import TrialJob, _follow, final_value
    from tests.helpers.fixture_runs import write_run

    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    run = write_run(tmp_path, "sw-t000-20260301T120000Z")  # completed; evaluations at steps 10..40
    study = optuna.create_study(direction="minimize", pruner=AlwaysPrune())
    trial = study.ask()
    (tmp_path / "run-file").write_text(str(run))
    job = TrialJob("sw.toml", [], "loss", "validation", {"study": "sw", "number": 0}, tmp_path / "log")
    process = _Exited(143)
    outcome = _follow(job, trial, process, tmp_path / "run-file", lambda: False)
    assert process.signals == [signal.SIGTERM]  # the pruner did say stop
    assert outcome.state == "complete" and outcome.value == final_value(str(run), "loss", "validation")
    assert sorted(outcome.reported) == [10, 20, 30, 40]  # every evaluation reported
    assert read_run(run).record.trial["state"] == "complete"
    interrupted = write_run(tmp_path, "sw-t001-20260301T120000Z", status="interrupted")
    (tmp_path / "run-file").write_text(str(interrupted))
    outcome = _follow(job, study.ask(), _Exited(143), tmp_path / "run-file", lambda: False)
    assert outcome.state == "pruned"  # stopped by the prune: pruned, as before


CV_SWEEP = """
[metrics]
threshold = "tuned"

[sweep]
trials = 3
folds = 2
metric = "f1_macro"
sampler = "random"
seed = 1

[sweep.space]
"trainer.learning_rate" = { log_uniform = [1e-3, 1e-2] }
"""


@pytest.mark.timeout(900)
@pytest.mark.slow  # 3 trials of 2 folds, about a minute: CI runs it (`pytest -m slow`)
def test_a_cross_validated_sweep_scores_each_trial_by_the_mean_of_its_folds(tmp_path):
    """`[sweep] folds = 2`: each trial trains one run per fold as one group, its value is the mean
    of their cross-fitted validation figures, the pruner hears the first fold; `STUDY:best`, the
    sweep's table and the TUI's sweep view each show a trial once."""
    from peftspec.report.compare import run_row
    from peftspec.sweep.storage import open_storage
    from peftspec.tui.screens.sweep import trial_rows

    root = make_tiny_workspace(tmp_path)
    write_tiny_lora_spec(root, "cv", dropout=0.0, trainer=TRAINER, tail=CV_SWEEP, test=False)
    assert peftspec(root, "lint", "cv.toml").returncode == 0
    proc = peftspec(root, "sweep", "cv.toml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "trial 0 (2 folds)" in proc.stdout and "the mean of 2 folds" in proc.stdout
    study = optuna.load_study(study_name="cv", storage=open_storage(None, root / "runs-cv" / "cv-sweep"))
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    runs = [read_run(p) for p in run_dirs(root / "runs-cv")]
    assert len(runs) == 6
    for trial in study.trials:
        folds = sorted(
            (r for r in runs if r.record.group.id == trial.user_attrs["group"]),
            key=lambda r: r.record.group.index,
        )
        assert [r.record.group.index for r in folds] == [0, 1] and all(
            r.record.group.folds == 2 for r in folds
        )
        figures = [run_row(r, "validation")["f1_macro"] for r in folds]  # cross-fitted: tuned there
        assert all(r.split_metrics("validation")["crossfit"] for r in folds)
        assert trial.value == pytest.approx(sum(figures) / 2)
        assert [r.record.trial["fold_value"] for r in folds] == pytest.approx(figures)
        assert all(
            r.record.trial["value"] == trial.value and r.record.trial["state"] == "complete" for r in folds
        )
        validated = [set(r.predictions().filter(split="validation")["id"].to_list()) for r in folds]
        assert len(validated[0] | validated[1]) == 160 and not validated[0] & validated[1]
        assert sorted(trial.intermediate_values) == [step_of(e) for e in folds[0].stream.evals]
    best = study.best_trial
    rows = json.loads(peftspec(root, "compare", "cv:best", "--root", "runs-cv", "--format", "json").stdout)
    assert [(r["name"], r["run"]) for r in rows] == [
        (f"cv-t{best.number:03d} (2 folds)", best.user_attrs["group"])
    ]
    assert rows[0]["f1_macro"] == pytest.approx(best.value)
    table = peftspec(root, "sweep", "cv.toml").stdout  # nothing left: prints the study
    assert best.user_attrs["group"] in table and "mean over 2 folds" in " ".join(table.split())
    retrain = next(line for line in table.splitlines() if line.startswith("peftspec run "))
    assert f"--set trainer.learning_rate={best.params['trainer.learning_rate']}" in retrain
    assert "dataset.fold" not in retrain and "run_name" not in retrain
    proc = peftspec(root, "export", "cv:best", "--root", "runs-cv", "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "names 2 runs" in proc.stderr and retrain in " ".join(proc.stderr.split())
    proc = peftspec(root, "report", "runs-cv/cv-sweep", "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    md = " ".join((tmp_path / "rep" / "report.md").read_text().split())
    assert "Objective: f1_macro on validation, the mean over 2 folds of the training data" in md
    assert f"the runs of group {best.user_attrs['group']}" in md
    shown = trial_rows(root / "runs-cv")
    assert [(r["number"], r["state"]) for r in shown] == [(0, "complete"), (1, "complete"), (2, "complete")]
    assert [r["value"] for r in shown] == pytest.approx([t.value for t in study.trials])


def test_a_cross_validated_trial_taken_over_keeps_its_completed_folds(tmp_path, monkeypatch):
    """A worker that takes over a trial counts the folds that completed as they are, resumes the
    fold that was interrupted with a checkpoint, and runs the rest."""
    from peftspec.runs import RunWriter
    from peftspec.sweep import trial as trials
    from tests.helpers.fixture_runs import write_run

    record = {"study": "sw", "number": 0}
    group = {"id": "sw-t000-g20260301T115959Z", "size": 3, "folds": 3, "varies": ["dataset.fold"]}
    for fold, status in ((0, "completed"), (1, "interrupted")):
        path = write_run(tmp_path / "runs", f"sw-t000-20260301T12000{fold}Z", status=status)
        (path / "checkpoints" / "checkpoint-10").mkdir(parents=True)
        (path / "checkpoints" / "checkpoint-10" / "trainer_state.json").write_text("{}")
        run = read_run(path)
        RunWriter(run.paths, run.record).update(
            trial={**record, "fold": fold}, group={**group, "index": fold}
        )
    started = []

    def run_once(job, trial, stop):
        started.append((job.record["fold"], job.resume_dir and Path(job.resume_dir).name, job.reports))
        path = tmp_path / "runs" / f"sw-t000-20260301T12000{job.record['fold']}Z"
        return trials.TrialOutcome(
            "complete", 0.5 + job.record["fold"] / 10, str(path) if path.is_dir() else None
        )

    monkeypatch.setattr(trials, "_run_once", run_once)
    monkeypatch.setattr(trials, "_resumable", lambda run_dir: read_run(run_dir).status != "completed")
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    trial.set_user_attr("group", group["id"])
    job = trials.TrialJob("sw.toml", [], "loss", "validation", record, tmp_path / "log", folds=3)
    job.output_root, job.run_name = str(tmp_path / "runs"), "sw-t000"
    outcome = trials.run_folds(job, trial, lambda: False)
    assert started == [(1, "sw-t000-20260301T120001Z", False), (2, None, False)]
    completed = trials.final_value(str(tmp_path / "runs" / "sw-t000-20260301T120000Z"), "loss", "validation")
    assert outcome.state == "complete" and outcome.group == group["id"]
    assert outcome.value == pytest.approx((completed + 0.6 + 0.7) / 3)


def test_sweep_folds_need_training_data_to_cut_and_set_the_fold_keys_themselves(tmp_path):
    root = make_tiny_workspace(tmp_path)
    (root / "validation.csv").write_text((root / "test.csv").read_text())
    with_validation = CV_SWEEP + '"adapter.r" = { choice = [2, 4] }\n'
    spec = write_tiny_lora_spec(root, "cv", dropout=0.0, trainer=TRAINER, tail=with_validation, test=False)
    spec.write_text(
        spec.read_text().replace('train = "train.csv"', 'train = "train.csv"\nvalidation = "validation.csv"')
    )
    proc = peftspec(root, "lint", "cv.toml")
    assert proc.returncode == 1 and "sweep.folds cross-validates each trial" in proc.stdout
    searched = CV_SWEEP + '"dataset.fold" = { choice = [0, 1] }\n'
    write_tiny_lora_spec(root, "fold", dropout=0.0, trainer=TRAINER, tail=searched, test=False)
    proc = peftspec(root, "lint", "fold.toml")
    assert proc.returncode == 1 and "sweep.folds sets dataset.fold for each fold" in proc.stdout


def test_the_sweep_view_shows_a_cross_validated_trial_once_with_the_fold_it_is_on(tmp_path):
    from datetime import UTC, datetime

    from peftspec.runs import RunWriter
    from peftspec.tui.screens.sweep import trial_rows
    from tests.helpers.fixture_runs import write_run

    group = {"id": "sw-t000-g20260301T115959Z", "size": 3, "folds": 3, "varies": ["dataset.fold"]}
    trial = {"study": "sw", "number": 0, "params": {"adapter.r": 4}, "metric": "f1_macro"}
    now = datetime.now(UTC)
    for fold, status in ((0, "completed"), (1, "running")):
        path = write_run(tmp_path, f"sw-t000-20260301T12000{fold}Z", status=status, heartbeat=now)
        run = read_run(path)
        state = {"state": "running", "fold_state": "complete", "fold_value": 0.5} if fold == 0 else {}
        RunWriter(run.paths, run.record).update(
            trial={**trial, "fold": fold, **state}, group={**group, "index": fold}
        )
    rows = trial_rows(tmp_path)
    assert len(rows) == 1 and rows[0]["state"] == "running" and rows[0]["note"] == "fold 2 of 3"
    assert rows[0]["value"] is None and rows[0]["path"].name == "sw-t000-20260301T120000Z"

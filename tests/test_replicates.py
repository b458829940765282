"""End to end on a tiny model: `peftspec run SPEC --seeds 0,1,2` records one group of replicates;
compare shows it as one row (mean ± sd) against a single run with a paired bootstrap; the report
and the TUI count it as one. `--folds 3` cross-validates: one run per fold, as one group."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from peftspec.runs import grouped, read_run, run_dirs
from tests.helpers.cli import peftspec
from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

TRAINER = "epochs = 2\nbatch_size = 16\nlearning_rate = 5e-3\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = make_tiny_workspace(tmp_path_factory.mktemp("replicates"))
    write_tiny_lora_spec(root, "tiny", dropout=0.1, trainer=TRAINER, tail='[metrics]\nthreshold = "tuned"\n')
    proc = peftspec(root, "run", "tiny.toml", "--seeds", "0,1,2")
    assert proc.returncode == 0, proc.stderr
    proc = peftspec(root, "run", "tiny.toml", "--set", "name=single", "--set", "adapter.r=2")
    assert proc.returncode == 0, proc.stderr
    return root


def test_seeds_train_one_group_whose_runs_differ_only_in_their_seed(workspace):
    runs = [read_run(p) for p in run_dirs(workspace / "runs-tiny")]
    members = [r for r in runs if r.record.group is not None]
    assert len(members) == 3 and all(r.status == "completed" for r in members)
    groups = {r.record.group.id for r in members}
    assert len(groups) == 1 and next(iter(groups)).startswith("tiny-g")
    assert sorted(r.record.seed for r in members) == [0, 1, 2]
    assert {tuple(r.record.group.seeds) for r in members} == {(0, 1, 2)}
    assert all(r.record.group.varies == ["trainer.seed"] for r in members)
    assert all(f"trainer.seed={r.record.seed}" in r.record.overrides for r in members)
    assert len({json.dumps(r.record.rows) for r in members}) == 1  # the validation split is fixed
    assert len(grouped(runs)) == 2  # the group and the single run
    scores = [np.asarray(r.predictions()["scores"].to_list()) for r in members]
    assert not np.allclose(scores[0], scores[1])  # the seeds changed the training


def test_compare_shows_the_group_as_one_row_and_tests_the_difference(workspace):
    proc = peftspec(
        workspace,
        "compare",
        "tiny",
        "single",
        "--root",
        "runs-tiny",
        "--baseline",
        "single",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert set(rows) == {"tiny (3 seeds)", "single"}
    group = rows["tiny (3 seeds)"]
    members = [read_run(workspace / "runs-tiny" / name) for name in group["members"]]
    values = [m.split_metrics("test")["f1_micro"] for m in members]
    assert group["split"] == "test" and group["seeds"] == [0, 1, 2]
    assert group["f1_micro"] == pytest.approx(np.mean(values))
    assert group["f1_micro_std"] == pytest.approx(np.std(values, ddof=1))
    assert group["f1_micro_low"] <= group["f1_micro_delta"] <= group["f1_micro_high"]
    assert 0 < group["f1_micro_p"] <= 1 and isinstance(group["f1_micro_significant"], bool)
    seeds = json.loads(
        peftspec(workspace, "compare", "tiny", "--root", "runs-tiny", "--ungroup", "--format", "json").stdout
    )
    assert [r["name"] for r in seeds] == ["tiny seed 0", "tiny seed 1", "tiny seed 2"]  # one flag away
    table = peftspec(
        workspace, "compare", "tiny", "single", "--root", "runs-tiny", "--baseline", "single"
    ).stdout
    assert "tiny (3 seeds)" in table and " ± " in table and "paired bootstrap" in table
    # a group named only as the baseline is the whole group; one of its runs by its folder, that run
    seed = next(r for r in (read_run(p) for p in run_dirs(workspace / "runs-tiny")) if r.record.seed == 1)
    for baseline, shown in (("tiny", "tiny (3 seeds)"), (str(seed.path), "tiny seed 1")):
        proc = peftspec(
            workspace, "compare", "single", "--root", "runs-tiny", "--baseline", baseline, "--format", "json"
        )
        assert proc.returncode == 0, proc.stderr
        assert [r["name"] for r in json.loads(proc.stdout)] == [shown, "single"]


def test_the_report_counts_the_group_as_one_row(workspace, tmp_path):
    proc = peftspec(workspace, "report", "tiny", "single", "--root", "runs-tiny", "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "rep" / "report.md").read_text()
    overview = md.split("## Overview", 1)[1].split("###", 1)[0]
    assert "| tiny (3 seeds) |" in overview and overview.count("| tiny") == 1 and " ± " in overview
    assert md.count("## Run tiny") == 3  # each seed keeps its own section, named by its seed
    assert all(f"## Run tiny seed {seed}\n" in md for seed in (0, 1, 2))
    proc = peftspec(
        workspace, "report", "tiny", "--root", "runs-tiny", "--baseline", "single", "-o", str(tmp_path / "b")
    )
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "b" / "report.md").read_text()
    assert "### Against single" in md and "| tiny (3 seeds) | F1 macro |" in md
    assert "paired bootstrap" in md and "Holm's correction for 4 comparisons" in md
    # a best that the test does not separate from the baseline is said to be no ranking
    import re

    best = re.search(r"Best f1_macro \(test\): `([^`]+)` \([0-9.]+\)(.*)", md)
    assert best is not None
    if best.group(1) == "single":
        assert best.group(2).startswith(", the baseline")
    else:
        assert re.match(
            r", (not )?significantly different from the baseline \(Holm p [0-9.]+\)", best.group(2)
        )
    assert re.search(r"Best f1_weighted \(test\): `[^`]+` \([0-9.]+\)\.$", md, re.M)  # untested metric


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--seeds", "0,0"], "two or more different seeds"),
        (["--seeds", "1,x"], "whole numbers"),
        (["--replicates", "1"], "2 or more"),
        (["--seeds", "0,1", "--replicates", "2"], "not both"),
        (["--vary-split"], "goes with --seeds"),
        (["--seeds", "0,1", "--dry-run"], "without --resume or --dry-run"),
        (["--folds", "1"], "--folds needs 2 or more"),
        (["--folds", "3", "--seeds", "0,1"], "give --folds or --seeds/--replicates"),
        (["--folds", "3", "--dry-run"], "without --resume or --dry-run"),
    ],
)
def test_bad_replicate_options_are_usage_errors(workspace, args, says):
    proc = peftspec(workspace, "run", "tiny.toml", *args)
    assert proc.returncode == 2 and says in proc.stderr


def test_folds_cross_validate_as_one_group_whose_validation_rows_cover_the_training_data(tmp_path):
    root = make_tiny_workspace(tmp_path)
    write_tiny_lora_spec(root, "cv", dropout=0.1, trainer=TRAINER, test=False)
    proc = peftspec(root, "run", "cv.toml", "--folds", "3")
    assert proc.returncode == 0, proc.stderr
    assert "fold 1 of 3: fold 0" in proc.stdout and "fold 0 of folds 0-2, cut by label" in " ".join(
        proc.stdout.replace("│", " ").split()
    )
    runs = sorted((read_run(p) for p in run_dirs(root / "runs-cv")), key=lambda r: r.record.group.index)
    assert [r.record.group.index for r in runs] == [0, 1, 2] and len({r.record.group.id for r in runs}) == 1
    assert all(r.record.group.folds == 3 and r.record.group.varies == ["dataset.fold"] for r in runs)
    validation = [set(r.predictions().filter(split="validation")["id"].to_list()) for r in runs]
    assert sum(map(len, validation)) == 160 and len(set().union(*validation)) == 160  # each row once
    assert [r.record.rows["train"] for r in runs] == [160 - len(v) for v in validation]
    table = peftspec(root, "compare", "cv", "--root", "runs-cv", "--format", "markdown")
    assert table.returncode == 0, table.stderr
    assert "cv (3 folds)" in table.stdout and "±" in table.stdout
    assert "validation" in table.stdout.splitlines()[-1]  # no test split: the folds' validation figures
    (row,) = json.loads(peftspec(root, "compare", "cv", "--root", "runs-cv", "--format", "json").stdout)
    assert row["folds"] == 3 and row["fold"] == [0, 1, 2] and row["members"] == [r.name for r in runs]


def test_groups_of_folds_are_named_by_their_ids_and_tested_within_each_fold(tmp_path):
    """Two configurations cross-validated on the same folds of data without a test file: compare
    names each group by its id, resamples each fold's rows within that fold, and decides the runs
    that tuned their thresholds on their fold cross-fitted, so each difference tested is the one
    the table shows."""
    from peftspec.report.compare import compare_runs

    root = make_tiny_workspace(tmp_path)
    tuned = '[metrics]\nthreshold = "tuned"\n'
    write_tiny_lora_spec(root, "cv", dropout=0.1, trainer=TRAINER, test=False, tail=tuned)
    for extra in ([], ["--set", "name=small", "--set", "adapter.r=2"]):
        proc = peftspec(root, "run", "cv.toml", "--folds", "3", *extra)
        assert proc.returncode == 0, proc.stderr
    runs = [read_run(p) for p in run_dirs(root / "runs-cv")]
    cv, small = sorted({r.record.group.id for r in runs})
    assert cv.startswith("cv-g") and small.startswith("small-g")
    result = compare_runs(runs, next(r for r in runs if r.record.group.id == small))
    row = next(r for r in result.rows if r["name"] == "cv (3 folds)")
    assert result.comparison.folds == 3 and len(result.comparison.differences) == 4
    for d in result.comparison.differences:  # cross-fitted, as the table: not tuned on the same rows
        assert d.delta == pytest.approx(row[f"{d.metric}_delta"], abs=1e-6), d.metric
        assert d.p_folds is not None and d.p_holm >= d.p_folds  # tested over the folds too
    proc = peftspec(
        root, "compare", cv, small, "--root", "runs-cv", "--baseline", small, "--format", "markdown"
    )
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "| cv (3 folds) |" in text and "| small (3 folds) |" in text
    assert "(160 rows in 3 folds, each resampled within itself)" in text
    assert "| p (folds) |" in text and "corrected resampled t-test (Nadeau and Bengio, 2003)" in text
    assert "Runs that tuned their thresholds on these rows (small (3 folds); cv (3 folds))" in text
    single = peftspec(root, "run", "cv.toml", "--set", "name=single")
    assert single.returncode == 0, single.stderr
    proc = peftspec(root, "compare", "single", "--root", "runs-cv", "--baseline", cv)
    assert proc.returncode == 1 and "than any of the 3 folds of cv (3 folds)" in " ".join(proc.stderr.split())
    proc = peftspec(root, "export", cv, "--root", "runs-cv", "-o", str(tmp_path / "out"))  # a model a fold
    assert proc.returncode == 2 and f"the 3 runs of group {cv}, a model each" in " ".join(proc.stderr.split())


def test_a_group_stopped_part_way_says_so_and_resuming_it_finishes_the_group(tmp_path):
    """SIGTERM during fold 1 of 3: fold 1 stops with a checkpoint and fold 2 never starts. Tables
    name the group `(2 of 3 folds)`; `peftspec run --resume` of fold 1 finishes it, then trains
    fold 2 from the recorded spec, in the same group."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = make_tiny_workspace(tmp_path)
    write_tiny_lora_spec(
        root, "cv", dropout=0.1, trainer=TRAINER.replace("epochs = 2", "epochs = 20"), test=False
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "peftspec", "run", "cv.toml", "--folds", "3", "--set", "adapter.r=2"],
        cwd=root,
        env={k: v for k, v in os.environ.items() if k != "PEFTSPEC_FAULT"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def second_fold_training():
        runs = run_dirs(root / "runs-cv") if (root / "runs-cv").is_dir() else []
        return len(runs) == 2 and any(e.get("event") == "train" for e in read_run(runs[1]).stream.records)

    deadline = time.monotonic() + 120
    while not second_fold_training():
        assert time.monotonic() < deadline and proc.poll() is None, "fold 1 never started training"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert "(then the group's 1 run(s) not started yet)" in " ".join(err.split())
    first, stopped = [read_run(p) for p in run_dirs(root / "runs-cv")]
    assert stopped.status == "interrupted"
    rows = json.loads(peftspec(root, "compare", "cv", "--root", "runs-cv", "--format", "json").stdout)
    assert [r["name"] for r in rows] == ["cv (2 of 3 folds)"]
    done = peftspec(root, "run", "--resume", str(stopped.path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "fold 3 of 3: fold 2" in done.stdout
    runs = [read_run(p) for p in run_dirs(root / "runs-cv")]
    assert [r.status for r in runs] == ["completed"] * 3
    assert [r.record.group.index for r in runs] == [0, 1, 2] and len({r.record.group.id for r in runs}) == 1
    assert runs[2].record.overrides == ["adapter.r=2", "dataset.folds=3", "dataset.fold=2"]
    assert runs[2].record.spec_file == first.record.spec_file
    validated = [set(r.predictions().filter(split="validation")["id"].to_list()) for r in runs]
    assert len(set().union(*validated)) == 160 and sum(map(len, validated)) == 160  # the same three folds
    rows = json.loads(peftspec(root, "compare", "cv", "--root", "runs-cv", "--format", "json").stdout)
    assert [r["name"] for r in rows] == ["cv (3 folds)"]

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
    assert len(seeds) == 3  # the individual seeds, one flag away
    table = peftspec(
        workspace, "compare", "tiny", "single", "--root", "runs-tiny", "--baseline", "single"
    ).stdout
    assert "tiny (3 seeds)" in table and " ± " in table and "paired bootstrap" in table


def test_the_report_counts_the_group_as_one_row(workspace, tmp_path):
    proc = peftspec(workspace, "report", "tiny", "single", "--root", "runs-tiny", "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "rep" / "report.md").read_text()
    overview = md.split("## Overview", 1)[1].split("###", 1)[0]
    assert "| tiny (3 seeds) |" in overview and overview.count("| tiny") == 1 and " ± " in overview
    assert md.count("## Run tiny") == 3  # each seed keeps its own section
    proc = peftspec(
        workspace, "report", "tiny", "--root", "runs-tiny", "--baseline", "single", "-o", str(tmp_path / "b")
    )
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "b" / "report.md").read_text()
    assert "### Against single" in md and "| tiny (3 seeds) | F1 macro |" in md
    assert "paired bootstrap" in md and "Holm's correction for 4 comparisons" in md


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

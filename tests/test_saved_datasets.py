"""Data saved with `datasets`' `save_to_disk`: `init --data FOLDER` writes each split's folder into
the spec, a real run trains on them with the dataset's class names in its own order, `predict`
labels a saved split and `evaluate` scores one; a DatasetDict's folder named as one split, or a
folder of something else, is refused with what to name instead."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.helpers.cli import peftspec
from tests.helpers.tiny import make_backbone, synthetic_rows

datasets = pytest.importorskip("datasets")

CLASSES = ["sadness", "joy", "fear", "anger"]  # the dataset's order, not sorted


def save_emotions(folder: Path) -> Path:
    """A DatasetDict of train/validation/test, the class a ClassLabel, saved with save_to_disk."""
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=CLASSES),
        }
    )
    splits = {}
    for name, n, seed in (("train", 96, 1), ("validation", 32, 2), ("test", 32, 3)):
        rows = synthetic_rows(n, seed=seed, multi_label=False)
        columns = {
            "id": [r["id"] for r in rows],
            "text": [r["text"] for r in rows],
            "label": [CLASSES.index(r["label"]) for r in rows],
        }
        splits[name] = datasets.Dataset.from_dict(columns, features=features)
    datasets.DatasetDict(splits).save_to_disk(str(folder))
    return folder


def test_a_saved_dataset_dict_is_guessed_trained_on_and_labelled(tmp_path):
    save_emotions(tmp_path / "emotions")
    make_backbone("bert", tmp_path / "bert")
    proc = peftspec(tmp_path, "init", "spec.toml", "--data", "emotions", "--model", "bert")
    assert proc.returncode == 0, proc.stderr
    spec = tomllib.loads((tmp_path / "spec.toml").read_text())
    dataset = spec["dataset"]
    assert (dataset["train"], dataset["validation"], dataset["test"]) == (
        "emotions/train",
        "emotions/validation",
        "emotions/test",
    )
    assert dataset["labels"] == {"format": "single", "column": "label"} and dataset["id_column"] == "id"
    said = " ".join(proc.stdout.split())
    assert "a DatasetDict saved with save_to_disk" in said and "4 labels: sadness, joy, fear, anger" in said

    proc = peftspec(tmp_path, "run", "spec.toml", "--set", "trainer.epochs=1", "--set", "trainer.max_steps=3")
    assert proc.returncode == 0, proc.stderr
    (run,) = (tmp_path / "runs").iterdir()
    record = json.loads((run / "run.json").read_text())
    assert record["labels"] == CLASSES  # the ClassLabel's names, in its order
    hashed = record["data_hashes"]
    assert {Path(k).name for k in hashed} == {"train", "validation", "test"}
    assert all(len(v) == 64 for v in hashed.values())  # each split's Arrow files, hashed

    proc = peftspec(tmp_path, "predict", str(run), "emotions/test")
    assert proc.returncode == 0, proc.stderr
    predicted = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(predicted) == 32 and {p["predicted"] for p in predicted} <= set(CLASSES)
    assert predicted[0]["id"] == "r0"
    proc = peftspec(tmp_path, "evaluate", str(run), "emotions/test")  # named by folder and split
    assert proc.returncode == 0, proc.stderr
    assert (run / "eval-emotions-test.json").is_file()


def test_a_dataset_dicts_folder_or_any_other_folder_is_refused_with_what_to_name(tmp_path):
    save_emotions(tmp_path / "emotions")
    (tmp_path / "notes").mkdir()
    spec = tmp_path / "spec.toml"
    for train, expected in (
        ("emotions", "a whole DatasetDict saved with save_to_disk, not one split: name each split's folder"),
        ("notes", "a folder: name a data file in it, or a folder written by datasets' save_to_disk"),
    ):
        spec.write_text(
            f'name = "x"\n[dataset]\ntrain = "{train}"\n[dataset.labels]\nformat = "single"\n'
            'column = "label"\n[backbone]\nmodel = "bert"\n'
        )
        proc = peftspec(tmp_path, "run", "spec.toml", "--dry-run")
        assert proc.returncode == 1, proc.stderr
        assert expected in " ".join(proc.stderr.split()) and "Traceback" not in proc.stderr
        if train == "emotions":
            assert "emotions/train" in proc.stderr and "emotions/test" in proc.stderr
    proc = peftspec(tmp_path, "init", "other.toml", "--data", "notes")
    assert proc.returncode != 0 and "save_to_disk did not write" in proc.stderr

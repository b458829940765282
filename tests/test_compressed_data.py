"""Data files compressed whole (`.gz`, `.bz2`, `.xz`): `init --data` guesses from the file inside
(and finds its compressed siblings), a run reads and hashes them, a problem inside one is located
by line, and `predict` labels a compressed file of lines."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import tomllib

from tests.helpers.cli import peftspec
from tests.helpers.tiny import make_backbone, synthetic_rows


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def test_compressed_files_are_guessed_trained_on_and_labelled(tmp_path):
    make_backbone("bert", tmp_path / "bert")
    rows = [{"id": r["id"], "text": r["text"], "label": r["label"]} for r in synthetic_rows(90, 1, False)]
    (tmp_path / "tweets_train.jsonl.bz2").write_bytes(bz2.compress(jsonl(rows[:60])))
    (tmp_path / "tweets_dev.jsonl.bz2").write_bytes(bz2.compress(jsonl(rows[60:80])))
    (tmp_path / "tweets_test.jsonl.xz").write_bytes(lzma.compress(jsonl(rows[80:])))  # not a sibling's suffix
    proc = peftspec(tmp_path, "init", "spec.toml", "--data", "tweets_train.jsonl.bz2", "--model", "bert")
    assert proc.returncode == 0, proc.stderr
    spec = tomllib.loads((tmp_path / "spec.toml").read_text())
    assert spec["name"] == "tweets" and spec["dataset"]["validation"] == "tweets_dev.jsonl.bz2"
    assert spec["dataset"]["labels"] == {"format": "single", "column": "label"}
    assert "rows: train 60, validation 20" in " ".join(proc.stdout.split())

    proc = peftspec(
        tmp_path,
        "run",
        "spec.toml",
        "--set",
        "trainer.max_steps=2",
        "--set",
        "dataset.test=tweets_test.jsonl.xz",
    )
    assert proc.returncode == 0, proc.stderr
    (run,) = (tmp_path / "runs").iterdir()
    record = json.loads((run / "run.json").read_text())
    assert record["rows"] == {"train": 60, "validation": 20, "test": 10}
    assert {k.rsplit("/", 1)[-1] for k in record["data_hashes"]} == {
        "tweets_train.jsonl.bz2",
        "tweets_dev.jsonl.bz2",
        "tweets_test.jsonl.xz",
    }

    (tmp_path / "lines.txt.gz").write_bytes(gzip.compress(b"happy happy day\nso scared of it\n"))
    proc = peftspec(tmp_path, "predict", str(run), "lines.txt.gz")  # lines, as a .txt is read
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["text"] for line in proc.stdout.splitlines()] == [
        "happy happy day",
        "so scared of it",
    ]


def test_a_problem_inside_a_compressed_file_is_located_by_its_line(tmp_path):
    lines = jsonl([{"text": f"row {i}", "label": "a" if i % 2 else "b"} for i in range(6)])
    broken = lines.replace(b'{"text": "row 3"', b'{"text": row 3', 1)
    (tmp_path / "train.jsonl.gz").write_bytes(gzip.compress(broken))
    (tmp_path / "spec.toml").write_text(
        'name = "x"\n[dataset]\ntrain = "train.jsonl.gz"\n[dataset.labels]\nformat = "single"\n'
        'column = "label"\n[backbone]\nmodel = "bert"\n'
    )
    proc = peftspec(tmp_path, "run", "spec.toml", "--dry-run")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "train.jsonl.gz" in proc.stderr and "line 4" in proc.stderr, proc.stderr
    (tmp_path / "book.xlsx.gz").write_bytes(gzip.compress(b"not a workbook"))
    (tmp_path / "spec.toml").write_text(
        (tmp_path / "spec.toml").read_text().replace("train.jsonl.gz", "book.xlsx.gz")
    )
    proc = peftspec(tmp_path, "run", "spec.toml", "--dry-run")
    assert proc.returncode == 1 and "a compressed workbook: decompress it first" in proc.stderr

"""Findings of the hostile-input review: each case asserts the exit code, a message that says what
and where, no traceback, and for the data-loss cases that every file that was there before is
still there with the same content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import peftspec
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    make_backbone("bert", root / "bert")
    write_csv(synthetic_rows(64, seed=1), root / "train.csv")
    write_csv(synthetic_rows(16, seed=2), root / "validation.csv")
    (root / "run.toml").write_text(
        'name = "victim"\n[dataset]\ntrain = "train.csv"\nvalidation = "validation.csv"\nmax_length = 24\n'
        f'labels.columns = {json.dumps(EMOTIONS)}\n[backbone]\nmodel = "./bert"\n'
        '[adapter]\nkind = "lora"\nr = 4\ntarget_modules = ["query", "value"]\n'
        '[trainer]\nepochs = 1\nbatch_size = 16\nlearning_rate = 5e-3\n[metrics]\nthreshold = "tuned"\n'
    )
    assert peftspec(root, "run", "run.toml").returncode == 0
    return root


@pytest.fixture
def run_dir(workspace: Path) -> Path:
    (found,) = (workspace / "runs").iterdir()
    return found


# -- data loss ----------------------------------------------------------------------------------


def test_export_never_deletes_files_it_did_not_write(workspace, run_dir, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name, text in {"train.py": "print(1)\n", "notes.md": "# notes\n", "data.csv": "a,b\n1,2\n"}.items():
        (project / name).write_text(text)
    before = snapshot(project)
    refused = peftspec(workspace, "export", str(run_dir), "-o", str(project), "--format", "safetensors")
    assert refused.returncode == 1 and "is not empty" in refused.err and "--overwrite" in refused.err
    assert snapshot(project) == before
    done = peftspec(
        workspace, "export", str(run_dir), "-o", str(project), "--format", "safetensors", "--overwrite"
    )
    assert done.returncode == 0, done.err
    after = snapshot(project)
    assert {k: after[k] for k in before} == before  # every file of the project, unchanged
    assert "adapter_model.safetensors" in after


def test_export_refuses_the_run_directory_and_its_folders(workspace, run_dir):
    before = snapshot(run_dir)
    for target in (run_dir, run_dir / "adapter", run_dir / "sub"):
        proc = peftspec(workspace, "export", str(run_dir), "-o", str(target), "--format", "safetensors")
        assert proc.returncode == 1 and "inside the run directory" in proc.err
    assert snapshot(run_dir) == before


def test_export_keeps_an_existing_readme_unless_told(workspace, run_dir, tmp_path):
    (tmp_path / "README.md").write_text("my project\n")
    proc = peftspec(workspace, "export", str(run_dir), "-o", str(tmp_path))
    assert proc.returncode == 1 and (tmp_path / "README.md").read_text() == "my project\n"


def test_predict_checks_the_output_before_labelling(workspace, run_dir, tmp_path):
    (tmp_path / "folder").mkdir()
    cases = {
        str(tmp_path / "folder"): "is a folder",
        str(tmp_path / "missing" / "out.jsonl"): "does not exist",
        str(tmp_path / "out.docx"): "cannot tell the output format",
    }
    for output, message in cases.items():
        proc = peftspec(workspace, "predict", str(run_dir), "-", "-o", output, stdin=b"hello\n")
        assert proc.returncode == 2 and message in proc.err, proc.err


def test_predict_writes_nested_values_to_csv(workspace, run_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "so happy today", "tags": ["a", "b"], "meta": {"k": 1}}) + "\n")
    out = tmp_path / "out.csv"
    proc = peftspec(workspace, "predict", str(run_dir), str(source), "-o", str(out))
    assert proc.returncode == 0, proc.err
    text = out.read_text()
    assert '"[""a"", ""b""]"' in text and "score_joy" in text


def test_predict_reads_a_txt_file_as_one_text_per_line(workspace, run_dir, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("first line, with a comma\nsecond line\n")
    proc = peftspec(workspace, "predict", str(run_dir), str(source))
    rows = [json.loads(line) for line in proc.out.splitlines()]
    assert proc.returncode == 0 and [r["text"] for r in rows] == ["first line, with a comma", "second line"]


def test_predict_on_empty_or_undecodable_input(workspace, run_dir):
    empty = peftspec(workspace, "predict", str(run_dir), "-", stdin=b"")
    assert empty.returncode == 0 and empty.out == ""
    blank = peftspec(workspace, "predict", str(run_dir), "-", stdin=b"\n  \n")
    assert blank.returncode == 0 and [json.loads(x)["predicted"] for x in blank.out.splitlines()] == [
        None,
        None,
    ]
    binary = peftspec(workspace, "predict", str(run_dir), "-", stdin=b"fine\n\xff\xfe bad\n")
    assert binary.returncode == 1 and "line 2 is not UTF-8" in binary.err
    assert "set --encoding cp1252" in binary.err  # how predict is told, not the spec's key


def test_predict_labels_a_workbooks_sheet(workspace, run_dir, tmp_path):
    from tests.test_data import write_workbook

    texts = ["a happy day", "a sad one"]
    book = write_workbook(
        tmp_path / "in.xlsx", {"Cover": [["notes"]], "Texts": [["text"], *([t] for t in texts)]}
    )
    refused = peftspec(workspace, "predict", str(run_dir), str(book))
    assert refused.returncode == 1 and "--sheet 'Texts'" in refused.err
    read = peftspec(workspace, "predict", str(run_dir), str(book), "--sheet", "Texts")
    assert read.returncode == 0, read.err
    rows = [json.loads(line) for line in read.out.splitlines()]
    assert [row["text"] for row in rows] == texts
    out = tmp_path / "labelled.xlsx"  # back to the spreadsheet it came from
    written = peftspec(workspace, "predict", str(run_dir), str(book), "--sheet", "Texts", "-o", str(out))
    assert written.returncode == 0, written.err
    import polars as pl

    sheet = pl.read_excel(out, sheet_name="predictions")
    assert sheet["text"].to_list() == texts
    assert sheet["predicted"].to_list() == [",".join(row["predicted"]) for row in rows]


def test_predict_reads_the_input_in_the_encoding_named(workspace, run_dir, tmp_path):
    texts = ["très bien", "Grüße"]
    (tmp_path / "in.csv").write_bytes(("text\n" + "\n".join(texts) + "\n").encode("cp1252"))
    refused = peftspec(workspace, "predict", str(run_dir), str(tmp_path / "in.csv"))
    assert refused.returncode == 1 and "set --encoding cp1252" in refused.err
    read = peftspec(workspace, "predict", str(run_dir), str(tmp_path / "in.csv"), "--encoding", "cp1252")
    assert read.returncode == 0, read.err
    assert [json.loads(line)["text"] for line in read.out.splitlines()] == texts
    lines = peftspec(
        workspace,
        "predict",
        str(run_dir),
        "-",
        "--encoding",
        "utf16",
        stdin="\n".join(texts).encode("utf-16"),
    )
    assert lines.returncode == 0 and [json.loads(x)["text"] for x in lines.out.splitlines()] == texts


# -- silently wrong answers ---------------------------------------------------------------------


def test_predict_refuses_a_run_without_readable_thresholds(workspace, run_dir, tmp_path):
    import shutil

    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    (copy / "thresholds.json").write_text("{damaged")
    warned = peftspec(workspace, "predict", str(copy), "-", stdin=b"hello\n")
    assert warned.returncode == 0 and "thresholds read from eval.json" in warned.err
    evaluation = json.loads((copy / "eval.json").read_text())
    evaluation.pop("thresholds")
    (copy / "eval.json").write_text(json.dumps(evaluation))
    refused = peftspec(workspace, "predict", str(copy), "-", stdin=b"hello\n")
    assert refused.returncode == 1 and "no readable decision thresholds" in refused.err


def test_evaluate_names_cannot_shadow_or_escape(workspace, run_dir):
    before = snapshot(run_dir)
    shadow = peftspec(workspace, "evaluate", str(run_dir), "validation.csv", "--name", "test")
    assert shadow.returncode == 2 and "is a split of the run's own evaluation" in shadow.err
    escape = peftspec(workspace, "evaluate", str(run_dir), "validation.csv", "--name", "../../x")
    assert escape.returncode == 2 and "cannot name an evaluation" in escape.err
    assert snapshot(run_dir) == before


def test_a_diverging_run_fails_at_its_step(workspace):
    spec = (workspace / "run.toml").read_text().replace("learning_rate = 5e-3", "learning_rate = 1e30")
    spec = spec.replace('name = "victim"', 'name = "diverge"').replace(
        "[trainer]", "[trainer]\nmax_grad_norm = 1e30"
    )
    (workspace / "diverge.toml").write_text(spec)
    proc = peftspec(workspace, "run", "diverge.toml", "--set", "tracking.output_root=runs-diverge")
    assert proc.returncode == 1 and "Training diverged" in proc.err and "not finite" in proc.err
    from peftspec.runs import list_runs

    (run,) = list_runs(workspace / "runs-diverge")
    assert run.status == "failed" and run.record.error.type == "TrainingDiverged"


# -- specs: security and values lint accepts but run rejects -----------------------------------

BASE = 'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a", "b"]\n[backbone]\nmodel = "m"\n'


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ('extends = ".env"\n' + BASE, "extends-not-a-spec", "must name a TOML spec"),
        (BASE + '[tracking]\nrun_name = "../../escaped"\n', "invalid-value", "not a valid name"),
        (BASE + "[trainer]\nlearning_rate = inf\n", "invalid-value", "finite number"),
        (BASE + "[trainer]\nepochs = 1e400\n", "invalid-value", "finite number"),
        (BASE + "[trainer]\nseed = -1\n", "out-of-range", "must be >= 0"),
        (BASE + "[trainer]\nseed = 4294967296\n", "out-of-range", "must be <= 4294967295"),
        (
            BASE.replace(
                'labels.columns = ["a", "b"]', 'labels = { format = "single", column = "y", names = [] }'
            ),
            "invalid-value",
            "",
        ),
        ("name = 'x'\nv = " + "[" * 3000 + "]" * 3000 + "\n", "too-deep", "nest more than"),
        ("name = 'x'\nv = " + "{a = " * 600 + "1" + "}" * 600 + "\n", "too-deep", "nest more than"),
        ("name = 'x'\n" + "# padding\n" * 120_000, "too-large", "limited to 1024 KiB"),
    ],
    ids=[
        "extends-env",
        "run-name",
        "inf",
        "1e400",
        "seed-negative",
        "seed-large",
        "no-names",
        "arrays",
        "tables",
        "too-large",
    ],
)
def test_lint_refuses_what_run_would_reject(tmp_path, text, code, fragment):
    (tmp_path / ".env").write_text("AWS_ACCESS_KEY_ID=AKIA-SECRET-VALUE\n")
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    proc = peftspec(tmp_path, "lint", str(spec), "--format", "json")
    found = json.loads(proc.out)["diagnostics"]
    assert proc.returncode == 1 and any(d["code"] == code for d in found), found
    assert any(fragment in d["message"] for d in found), found
    text_out = peftspec(tmp_path, "lint", str(spec))
    assert "AKIA-SECRET-VALUE" not in text_out.out + text_out.err


def test_package_paths_cannot_leave_their_package(tmp_path):
    from peftspec.spec.packaged import PackagedModelError, package_data_file

    with pytest.raises(PackagedModelError, match="leaves the package folder"):
        package_data_file("package:peftspec/../../../../etc/passwd")
    assert package_data_file("package:peftspec/data/emotions_train.jsonl").endswith("emotions_train.jsonl")


def test_control_characters_are_escaped_in_every_format(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(BASE.replace("[backbone]", '"\\u001b[2Jboom" = 1\n[backbone]'))
    for fmt in ("text", "github", "json"):
        proc = peftspec(tmp_path, "lint", str(spec), "--format", fmt)
        assert proc.returncode == 1 and "\x1b" not in proc.out + proc.err


def test_a_validation_split_that_leaves_nothing_to_train_on(tmp_path):
    write_csv(synthetic_rows(10, seed=1), tmp_path / "train.csv")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'name = "x"\n[dataset]\ntrain = "train.csv"\nvalidation_split = 0.999\n'
        f'labels.columns = {json.dumps(EMOTIONS)}\n[backbone]\nmodel = "./nowhere"\n'
    )
    proc = peftspec(tmp_path, "run", str(spec), "--dry-run")
    assert proc.returncode == 1 and "leaves 0 to train on" in proc.err


# -- data that was silently misread ---------------------------------------------------------------


def data_spec(tmp_path: Path, train: str, labels: str, extra: str = "") -> Path:
    spec = tmp_path / "data.toml"
    spec.write_text(f'name = "d"\n[dataset]\ntrain = "{train}"\n{labels}\n{extra}[backbone]\nmodel = "./m"\n')
    return spec


def load_problems(spec: Path) -> list[str]:
    from peftspec.build.data import load_data
    from peftspec.build.problems import DataError
    from peftspec.spec import load_spec

    try:
        bundle = load_data(load_spec(spec).dataset)
    except DataError as exc:
        return [str(p) for p in exc.data_problems]
    return [f"warning: {p}" for p in bundle.warnings]


@pytest.mark.parametrize(
    ("name", "content", "labels", "expected"),
    [
        (
            "two.jsonl",
            '{"text": "a", "y": ["joy", "fear"]}\n{"text": "b", "y": ["joy"]}\n',
            'labels = { format = "single", column = "y", names = ["joy", "fear"] }',
            "row 1: ",
        ),
        (
            "list.jsonl",
            '{"text": ["a", "b"], "joy": 1}\n{"text": ["c"], "joy": 0}\n',
            'labels.columns = ["joy"]',
            "text must be a string, found a list",
        ),
        (
            "mixed.jsonl",
            '{"text": ["a", "b"], "joy": 1}\n{"text": "c", "joy": 0}\n',
            'labels.columns = ["joy"]',
            "line 2: 'text' is a string, but a list on line 1",
        ),
        (
            "nan.jsonl",
            '{"text": NaN, "joy": 1}\n{"text": "c", "joy": 0}\n',
            'labels.columns = ["joy"]',
            "line 1",
        ),
        ("tab.tsv", "text\tjoy\nfine\t1\nstray\ttab\t1\n", 'labels.columns = ["joy"]', "line 3 has 3 fields"),
        ("bytes.csv", "text,joy\nfine,1\n", 'labels.columns = ["joy"]', "line 3 is not UTF-8"),
        (
            "broken.jsonl",
            '{"text": "a", "joy": 1}\n{"text": "b", joy: 0}\n',
            'labels.columns = ["joy"]',
            "line 2 is not valid JSON",
        ),
        (
            "quote.csv",
            'text,joy\n"never closed,1\n' + "b,0\n" * 100,
            'labels.columns = ["joy"]',
            "unclosed quote",
        ),
    ],
    ids=[
        "single-label-list",
        "text-list",
        "text-mixed",
        "text-nan",
        "extra-tab",
        "not-utf8",
        "broken-json",
        "open-quote",
    ],
)
def test_bad_rows_are_named(tmp_path, name, content, labels, expected):
    path = tmp_path / name
    path.write_bytes(content.encode() + (b"\xff\xfe,0\n" if name == "bytes.csv" else b""))
    problems = load_problems(data_spec(tmp_path, name, labels))
    assert any(expected in p for p in problems), problems
    assert all(len(p) < 400 for p in problems)  # one line each, not a dump of the file


def test_repeated_ids_are_a_warning(tmp_path):
    (tmp_path / "t.csv").write_text("id,text,joy\n1,a,1\n2,b,0\n1,c,1\n")
    problems = load_problems(data_spec(tmp_path, "t.csv", 'labels.columns = ["joy"]\nid_column = "id"'))
    assert any(p.startswith("warning:") and "ids repeat" in p and "row 3" in p for p in problems), problems


def test_repeated_label_names_and_set_extends_are_errors(tmp_path):
    from peftspec.spec import check_spec

    spec = data_spec(tmp_path, "t.csv", 'labels.columns = ["joy", "anger", "joy"]')
    (error,) = check_spec(spec).errors
    assert error.code == "duplicate" and error.path == "dataset.labels.columns[2]"
    (override,) = check_spec(
        data_spec(tmp_path, "t.csv", 'labels.columns = ["joy"]'), ["extends=x.toml"]
    ).errors
    assert "cannot be set with --set" in override.message


# -- checkpoints and records ----------------------------------------------------------------------


def test_a_checkpoint_changed_in_place_is_not_resumed_from(tmp_path):
    from peftspec.runs.checkpoints import mark_complete, newest_complete

    for step in (2, 4):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "weights.bin").write_bytes(bytes(range(200)))
        mark_complete(folder, step)
    weights = tmp_path / "checkpoint-4" / "weights.bin"
    weights.write_bytes(bytes(reversed(range(200))))  # same size, other bytes
    scan = newest_complete(tmp_path)
    assert scan.step == 2 and "content hash differs" in scan.skipped[0][1]


def test_resuming_a_run_with_an_unreadable_record_says_so(workspace, run_dir, tmp_path):
    import shutil

    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    record = copy / "run.json"
    record.write_text(record.read_text()[:200])  # truncated mid-write
    proc = peftspec(workspace, "run", "--resume", str(copy))
    assert proc.returncode == 1 and "record cannot be read" in proc.err and "data changed" not in proc.err


def test_a_missing_names_file_is_a_data_error_before_any_run_folder(tmp_path):
    (tmp_path / "t.csv").write_text("text,y\na,joy\nb,anger\n")
    spec = data_spec(
        tmp_path, "t.csv", 'labels = { format = "single", column = "y", names_file = "nope.txt" }'
    )
    proc = peftspec(tmp_path, "run", str(spec))
    assert proc.returncode == 1 and "label names file not found" in proc.err and "nope.txt" in proc.err
    assert not (tmp_path / "runs").exists()


def test_a_spec_with_a_byte_order_mark_is_read(tmp_path):
    from peftspec.spec import check_spec

    spec = tmp_path / "bom.toml"
    spec.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    result = check_spec(spec)
    assert result.spec is not None and result.spec.name == "x"


def test_a_full_disk_is_named_and_the_traceback_shown(workspace, monkeypatch):
    import errno

    from peftspec.runs import writer

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer, "atomic_write_bytes", full)
    proc = peftspec(workspace, "run", "run.toml", "--set", "tracking.output_root=runs-full")
    assert proc.returncode == 1 and "The disk is full" in proc.err and "Traceback" in proc.err


def test_a_completion_marker_that_is_not_an_object_is_skipped(tmp_path):
    from peftspec.runs.checkpoints import MARKER, newest_complete

    folder = tmp_path / "checkpoint-2"
    folder.mkdir()
    (folder / MARKER).write_text("[1, 2]")
    scan = newest_complete(tmp_path)
    assert scan.newest is None and "damaged" in scan.skipped[0][1]


def test_evaluate_reads_a_workbook_or_another_encoding_when_told(workspace, run_dir, tmp_path):
    import polars as pl

    from tests.test_data import write_workbook

    frame = pl.read_csv(workspace / "validation.csv", infer_schema=False)
    rows = [frame.columns, *(list(row) for row in frame.iter_rows())]
    book = write_workbook(tmp_path / "held-out.xlsx", {"Cover": [["notes"]], "Rows": rows})
    refused = peftspec(workspace, "evaluate", str(run_dir), str(book))
    assert refused.returncode == 1 and "--sheet 'Rows'" in refused.err
    (tmp_path / "held-out.csv").write_bytes((workspace / "validation.csv").read_text().encode("utf-16"))
    undecoded = peftspec(workspace, "evaluate", str(run_dir), str(tmp_path / "held-out.csv"))
    assert undecoded.returncode == 1 and "set --encoding utf16" in undecoded.err
    runs = {
        "plain": [str(workspace / "validation.csv")],
        "book": [str(book), "--sheet", "Rows"],
        "utf16": [str(tmp_path / "held-out.csv"), "--encoding", "utf16"],
    }
    for name, args in runs.items():
        proc = peftspec(workspace, "evaluate", str(run_dir), *args, "--name", name)
        assert proc.returncode == 0, proc.err
    figures = {name: json.loads((run_dir / f"eval-{name}.json").read_text())[name] for name in runs}
    assert figures["book"]["f1_macro"] == figures["utf16"]["f1_macro"] == figures["plain"]["f1_macro"]
    assert figures["book"]["loss"] == pytest.approx(figures["plain"]["loss"], rel=1e-6)

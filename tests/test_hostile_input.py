"""Hostile input: weights load from safetensors only unless the spec opts in (pickle can run code);
the opt-in is a lint warning; a spec is data (no code paths to import or evaluate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import peftspec
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv


@pytest.fixture(scope="module")
def pickled(tmp_path_factory) -> Path:
    """A model folder whose weights are only a pickle file (pytorch_model.bin)."""
    import torch
    from safetensors.torch import load_file

    root = tmp_path_factory.mktemp("pickled")
    folder = make_backbone("bert", root / "bert")
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    write_csv(synthetic_rows(60, seed=1), root / "train.csv")
    return root


def spec(root: Path, opt_in: bool) -> Path:
    path = root / f"pickle-{opt_in}.toml"
    path.write_text(
        f"""name = "pickle"
[dataset]
train = "train.csv"
labels.columns = {json.dumps(EMOTIONS)}
[backbone]
model = "./bert"
allow_pickle_weights = {str(opt_in).lower()}
[adapter]
kind = "lora"
target_modules = ["query"]
"""
    )
    return path


def test_pickle_weights_are_refused_unless_the_spec_opts_in(pickled):
    refused = peftspec(pickled, "run", str(spec(pickled, False)), "--dry-run")
    assert refused.returncode == 1
    text = " ".join(refused.stderr.split())
    assert "safetensors weights only" in text and "backbone.allow_pickle_weights = true" in text
    allowed = peftspec(pickled, "run", str(spec(pickled, True)), "--dry-run")
    assert allowed.returncode == 0, allowed.stderr[-2000:]


def test_opting_in_to_pickle_weights_is_a_lint_warning(pickled):
    lint = peftspec(pickled, "lint", str(spec(pickled, True)), "--format", "json")
    codes = [d["code"] for d in json.loads(lint.stdout)["diagnostics"]]
    assert "pickle-weights" in codes


def test_a_spec_cannot_name_code_to_import(tmp_path):
    """Keys that would name Python objects (a callable, a class path) are unknown keys, not imports."""
    from peftspec.spec import check_spec

    path = tmp_path / "evil.toml"
    path.write_text(
        'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a", "b"]\n'
        'preprocess = "os.system"\n[backbone]\nmodel = "m"\nclass = "builtins.eval"\n'
    )
    report = check_spec(path)
    assert report.spec is None
    assert {d.path for d in report.errors} == {"dataset.preprocess", "backbone.class"}

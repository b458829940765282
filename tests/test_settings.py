"""What sets compared runs apart: the spec keys that differ among those some run chose, a group as
one row, and specs this version cannot read shown whole rather than hidden."""

from __future__ import annotations

import copy
import tomllib

import pytest

from peftspec.report.settings import set_apart
from peftspec.spec.loader import load_spec
from peftspec.spec.render import render_spec
from tests.conftest import SPECS


@pytest.fixture(scope="module")
def recorded() -> dict:
    """The quick start's spec as a run records it: every key written, defaults filled in."""
    return tomllib.loads(render_spec(load_spec(SPECS / "quickstart.toml")))


def variant(spec: dict, **changes) -> dict:
    out = copy.deepcopy(spec)
    for dotted, value in changes.items():
        *tables, key = dotted.split("__")
        node = out
        for table in tables:
            node = node.setdefault(table, {})
        node[key] = value
    return out


def test_lora_against_ia3_is_set_apart_by_the_choices_not_by_either_kinds_defaults(recorded):
    lora = variant(recorded, trainer__learning_rate=0.002, tracking__run_name="a", name="a")
    ia3 = variant(recorded, name="b", description="another")
    ia3["adapter"] = {
        "kind": "ia3",
        "target_modules": ["key", "value"],
        "feedforward_modules": [],
        "init_weights": True,
    }
    found = dict(set_apart([[lora], [ia3]]))
    assert found["adapter.kind"] == ["lora", "ia3"]
    assert found["adapter.target_modules"][1] == "[key, value]"
    assert found["trainer.learning_rate"] == ["0.002", "-"]  # unset: the default for its kind
    assert "adapter.use_dora" not in found and "adapter.init_weights" not in found  # a kind's defaults
    assert not any(k.split(".")[0] in ("name", "description", "tracking") for k in found)  # naming only
    assert list(found).index("adapter.kind") < list(found).index("trainer.learning_rate")  # spec order
    assert set_apart([[recorded], [variant(recorded, name="renamed")]]) == []


def test_a_group_is_one_row_and_its_seeds_set_it_apart_only_from_other_seeds(recorded):
    seeds = [variant(recorded, trainer__seed=s) for s in (0, 1, 2)]
    other = [variant(recorded, trainer__seed=s, trainer__learning_rate=0.01) for s in (0, 1, 2)]
    assert set_apart([seeds, other]) == [("trainer.learning_rate", ["-", "0.01"])]
    later = [variant(recorded, trainer__seed=s) for s in (3, 4, 5)]
    assert dict(set_apart([seeds, later]))["trainer.seed"] == ["0, 1, 2", "3, 4, 5"]
    searched = [variant(recorded, trainer__learning_rate=0.0010615360772719654)]
    assert dict(set_apart([seeds, searched]))["trainer.learning_rate"][1] == "0.00106154"


def test_a_spec_this_version_cannot_read_shows_every_key_that_differs(recorded):
    """Tolerant on stored data: a key from another version cannot be checked against a default, so
    it is shown rather than hidden."""
    future = variant(recorded, adapter__use_dora=True, trainer__warp_drive=3)
    found = dict(set_apart([[recorded], [future]]))
    assert found["trainer.warp_drive"] == ["-", "3"]
    assert found["adapter.use_dora"] == ["false", "true"]


def test_compare_and_report_show_what_sets_the_runs_apart(tmp_path):
    from tests.helpers.cli import peftspec
    from tests.helpers.fixture_runs import write_fixture_root

    root = tmp_path / "runs"
    write_fixture_root(root)
    lora, ia3 = root / "ml-lora-20260301T120000Z", root / "ml-ia3-20260301T130000Z"
    md = peftspec(tmp_path, "compare", str(lora), str(ia3), "--format", "markdown").stdout
    header = next(line for line in md.splitlines() if line.startswith("| run | adapter.kind"))
    assert "trainer.learning_rate" in header and "name" not in header.replace("run |", "")
    assert "| ml-ia3 | ia3 |" in md and "Spec keys whose values differ" in md
    table = peftspec(tmp_path, "compare", str(lora), str(ia3)).stdout
    assert "Set apart by" in table and "adapter.kind" in table
    peftspec(tmp_path, "report", str(lora), str(ia3), "-o", str(tmp_path / "rep"))
    report = (tmp_path / "rep" / "report.md").read_text()
    assert "### Set apart by" in report and "| ml-lora | lora |" in report


def test_a_run_without_a_readable_spec_sets_nothing_apart(recorded):
    other = variant(recorded, trainer__weight_decay=0.1)
    assert set_apart([[recorded], [other], [{}]]) == [("trainer.weight_decay", ["0.01", "0.1", "?"])]
    assert set_apart([[recorded], [{}]]) == []


def test_long_values_are_cut_in_the_middle_in_tables_and_kept_whole_in_json():
    from peftspec.report.settings import clipped

    path = "/home/someone/projects/emotion/data/semeval2018/2018-E-c-En-train.txt"
    cut = clipped(path)
    assert (
        len(cut) == 48 and cut.endswith("2018-E-c-En-train.txt") and cut.startswith("/home/") and "…" in cut
    )
    assert clipped("lora") == "lora"

"""The published JSON Schema, checked by a real validator (what editors, taplo and CI run): every
shipped spec and the output of `peftspec init` pass; the broken-spec corpus fails where the schema
can express the mistake (unknown keys, wrong types, out-of-range numbers, bad choices)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

from peftspec.spec.reference import json_schema  # noqa: E402
from tests.conftest import ROOT, SPECS  # noqa: E402

BROKEN = ROOT / "tests" / "broken_specs"
EXPRESSIBLE = {"unknown-key", "wrong-type", "out-of-range"}
"""Mistakes a JSON Schema can see in one file (cross-field rules, files and the like it cannot)."""


@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def data_of(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_spec_is_valid(validator, spec):
    errors = sorted(e.message for e in validator.iter_errors(data_of(spec)))
    assert errors == [], errors


def test_the_starter_spec_is_valid(validator):
    from peftspec.spec.starter import starter_toml

    assert sorted(e.message for e in validator.iter_errors(tomllib.loads(starter_toml()))) == []


def expected_codes(path: Path) -> set[str]:
    """The codes a broken spec expects at a place of its own (not in its base, not in a --set)."""
    found = re.findall(r"^# expect: (\S+) \S+ (\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {code for where, code in found if re.fullmatch(r"\d+:\d+", where)}


def _parsable(path: Path) -> bool:
    try:
        data_of(path)
    except tomllib.TOMLDecodeError:
        return False
    return True


@pytest.mark.parametrize(
    "spec",
    [p for p in sorted(BROKEN.glob("*.toml")) if expected_codes(p) & EXPRESSIBLE and _parsable(p)],
    ids=lambda p: p.name,
)
def test_the_schema_rejects_what_it_can_express(validator, spec):
    assert list(validator.iter_errors(data_of(spec))), f"{spec.name} passes the schema"


def test_a_child_spec_needs_no_required_keys_but_keeps_its_types(validator):
    assert not list(validator.iter_errors({"extends": "base.toml", "adapter": {"r": 16}}))
    assert list(validator.iter_errors({"extends": "base.toml", "adapter": {"r": "sixteen"}}))
    assert list(validator.iter_errors({"extends": "base.toml", "trainer": {"epohcs": 3}}))
    assert list(validator.iter_errors({"name": "no-extends"}))  # a whole spec needs dataset and backbone

"""The plan says how many texts `dataset.max_length` cuts, per split, measured with the run's
tokenizer: the count is exactly that of a tokenisation without truncation, single texts and pairs."""

from __future__ import annotations

import numpy as np
import pytest

from peftspec.build.data import Split
from peftspec.build.tokenize import to_dataset
from peftspec.build.truncation import Cut, measure, truncation_line
from tests.helpers.tiny import make_tokenizer

pytest.importorskip("torch")

WORDS = ["happy", "sad", "calm", "angry", "joy", "the", "a", "of"]


def split(lengths: list[int], pairs: list[int] | None = None) -> Split:
    texts = [" ".join(WORDS[i % len(WORDS)] for i in range(n)) for n in lengths]
    paired = [" ".join(["calm"] * n) for n in pairs] if pairs else None
    return Split("train", texts, [str(i) for i in range(len(texts))], np.zeros(len(texts), dtype=int), paired)


@pytest.mark.parametrize("kind", ["bert", "qwen2"])
@pytest.mark.parametrize("paired", [False, True])
def test_the_cut_texts_are_exactly_those_longer_than_max_length(kind, paired, tmp_path, monkeypatch):
    monkeypatch.setattr("peftspec.build.tokenize.CACHE_DIR", str(tmp_path))
    tokenizer = make_tokenizer(kind)
    lengths = [1, 5, 9, 10, 11, 12, 30, 3, 10]
    data = split(lengths, [2, 2, 1, 0, 4, 1, 3, 9, 1] if paired else None)
    max_length = 12
    full = [len(ids) for ids in tokenizer(data.texts, data.pairs, truncation=False)["input_ids"]]
    cut = measure(data, to_dataset(data, tokenizer, max_length, "multi_class"), tokenizer, max_length)
    assert cut == Cut(len(lengths), sum(n > max_length for n in full), max(full))
    assert 0 < cut.cut < len(lengths)  # some cut, some not: the test tells them apart


def test_the_plan_line_says_the_share_and_when_to_raise_max_length():
    few = {"train": Cut(6838, 1, 71), "validation": Cut(886, 0, 60)}
    assert truncation_line(few, 64) == (
        "at 64 tokens: train <0.1% (1 of 6,838, longest 71 tokens), "
        "validation 0.0% (0 of 886, longest 60 tokens)"
    )
    many = truncation_line({"train": Cut(100, 30, 300)}, 64)
    assert many.startswith("at 64 tokens: train 30.0% (30 of 100") and "raise dataset.max_length" in many
    assert truncation_line({"train": Cut(10, 0, 41)}, 64) == "none (the longest text is 41 of 64 tokens)"


def test_the_plan_of_a_run_shows_what_max_length_cuts(tmp_path):
    from tests.helpers.cli import peftspec
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    make_tiny_workspace(tmp_path)
    spec = write_tiny_lora_spec(tmp_path, "cut", dropout=0.0, trainer="max_steps = 1")
    spec.write_text(spec.read_text().replace("max_length = 32", "max_length = 8"))
    proc = peftspec(tmp_path, "run", "cut.toml", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    plan = " ".join(proc.stdout.replace("│", " ").split())
    assert "truncated at 8 tokens: train " in plan and "raise dataset.max_length" in plan

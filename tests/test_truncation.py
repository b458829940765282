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


LONG = " ".join(WORDS[i % len(WORDS)] + ("s" if i % 3 == 0 else "") for i in range(40))


@pytest.mark.parametrize("kind", ["bert", "qwen2", "gemma"])
def test_start_keeps_a_texts_end_and_middle_its_head_and_tail(kind):
    """`start` is the tokenizer's own left truncation; `middle` keeps a quarter of the budget from
    the beginning and the rest from the end; the special tokens stay; short texts are untouched."""
    from peftspec.build.tokenize import encode, special_tokens

    tokenizer = make_tokenizer(kind)
    texts, max_length = [LONG, "calm joy"], 12
    before, after = special_tokens(tokenizer)
    content = tokenizer(LONG, add_special_tokens=False)["input_ids"]
    budget = max_length - len(before) - len(after)
    assert len(content) > 2 * budget  # long enough that the three cuts differ
    tokenizer.truncation_side = "left"  # as some checkpoints save it: `end` still cuts the end
    end = encode(tokenizer, texts, None, max_length, "end")["input_ids"]
    assert end[0] == before + content[:budget] + after
    start = encode(tokenizer, texts, None, max_length, "start")
    assert start["input_ids"] == tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    assert start["input_ids"][0] == before + content[-budget:] + after
    head = budget // 4
    middle = encode(tokenizer, texts, None, max_length, "middle")["input_ids"]
    assert middle[0] == before + content[:head] + content[len(content) - budget + head :] + after
    short = tokenizer(texts[1])["input_ids"]
    assert end[1] == start["input_ids"][1] == middle[1] == short
    assert start["attention_mask"][0] == [1] * max_length
    assert tokenizer.truncation_side == "left"  # left as it was


def test_pairs_cut_at_the_start_and_refuse_the_middle(write_spec):
    from peftspec.build.tokenize import encode
    from peftspec.spec import load_spec
    from peftspec.spec.diagnostics import SpecError

    tokenizer = make_tokenizer("bert")
    start = encode(tokenizer, [LONG], ["calm joy"], 12, "start")["input_ids"][0]
    tokenizer.truncation_side = "left"
    assert start == tokenizer([LONG], ["calm joy"], truncation=True, max_length=12)["input_ids"][0]
    dataset = 'train = "t.csv"\ntext_pair_column = "b"\nlabels = { format = "single", column = "label" }'
    with pytest.raises(SpecError) as info:
        load_spec(
            write_spec(f'name = "p"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\ntruncate = "middle"\n')
        )
    (problem,) = info.value.diagnostics
    assert problem.path == "dataset.truncate" and "not the middle" in problem.message and problem.line == 8


@pytest.mark.parametrize("truncate", ["start", "end"])
def test_a_run_cuts_where_its_spec_says_in_training_prediction_and_exports(truncate, tmp_path):
    """Trained with `truncate = "start"`, a run scores two long texts with the same ending alike,
    whatever their beginnings (the default, `end`, tells them apart: the control), its plan says
    where texts are cut, and its saved tokenizer truncates on that side for plain HF code."""
    import json

    import peftspec
    from tests.helpers.cli import peftspec as cli
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    make_tiny_workspace(tmp_path)
    spec = write_tiny_lora_spec(tmp_path, "cut", dropout=0.0, trainer="max_steps = 2\nbatch_size = 16")
    spec.write_text(spec.read_text().replace("max_length = 32", f'max_length = 8\ntruncate = "{truncate}"'))
    proc = cli(tmp_path, "run", "cut.toml")
    assert proc.returncode == 0, proc.stderr
    plan = " ".join(proc.stdout.replace("│", " ").split())
    assert ("each cut at its start" in plan) == (truncate == "start")
    (run,) = (tmp_path / "runs-cut").iterdir()
    saved = json.loads((run / "adapter" / "tokenizer_config.json").read_text())
    assert saved.get("truncation_side", "right") == ("left" if truncate == "start" else "right")
    ending = "the weather calm scared happy today the weather nervous great today the weather"
    texts = ["happy " * 20 + ending, "angry furious " * 10 + ending]
    scores = peftspec.load_run(run).predict(texts).scores
    assert np.allclose(scores[0], scores[1]) == (truncate == "start")
    assert cli(tmp_path, "export", str(run), "-o", "out").returncode == 0
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert ("the saved tokenizer truncates on the left" in card) == (truncate == "start")


def test_the_model_card_says_how_a_middle_cut_was_made():
    from peftspec.inference.model_card import _cut_note

    note = " ".join(line.strip(" #") for line in _cut_note("middle", 512))
    assert "over 512 tokens in the middle" in note and "first quarter and the last three quarters" in note
    assert _cut_note("end", 512) == []

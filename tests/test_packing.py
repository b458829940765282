"""Padding-free (packed) batches give the padded path's logits and gradients, on tiny Qwen2, Gemma
and BERT models with LoRA, for the architecture's own pooling and for mean pooling."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.specs import LORA_TARGETS as ADAPTERS
from tests.helpers.specs import tiny_lora_spec
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows

CASES = [(kind, pooling) for kind in ADAPTERS for pooling in ("auto", "mean")] + [("bert", "cls")]


@pytest.fixture(scope="module")
def backbones(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("packing")
    return {kind: make_backbone(kind, root / kind) for kind in ADAPTERS}


def built(folder: Path, kind: str, pooling: str):
    from peftspec.build.model import build_model

    return build_model(tiny_lora_spec(folder, kind, pooling), EMOTIONS, "fp32")


def rows_of(tokenizer, n: int = 7):
    texts = [row["text"] for row in synthetic_rows(n, seed=5)]
    texts[2] = "a"  # a one-word row among longer ones
    encoded = tokenizer(texts, truncation=True, max_length=32)
    labels = [[float(i % 2), float(i % 3 == 0), 0.0, 1.0] for i in range(n)]
    return [
        {"input_ids": ids, "attention_mask": mask, "labels": label}
        for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], labels)
    ]


@pytest.mark.parametrize(("kind", "pooling"), CASES, ids=[f"{k}-{p}" for k, p in CASES])
def test_packed_logits_and_gradients_equal_the_padded_ones(backbones, kind, pooling):
    import torch
    import torch.nn.functional as F

    from peftspec.build.packing import pack, packed_logits
    from peftspec.build.tokenize import collator

    torch.manual_seed(0)
    model = built(backbones[kind], kind, pooling)
    rows = rows_of(model.tokenizer)
    assert len({len(r["input_ids"]) for r in rows}) > 2  # the padded batch really pads
    network = model.model.eval()
    padded = collator(model.tokenizer)([dict(r) for r in rows])
    labels = padded.pop("labels")

    network.zero_grad(set_to_none=True)
    reference = network(**padded).logits
    F.binary_cross_entropy_with_logits(reference, labels).backward()
    reference_grads = torch.cat([p.grad.flatten() for p in network.parameters() if p.grad is not None])

    network.zero_grad(set_to_none=True)
    packed = pack(rows)
    assert packed["input_ids"].shape[1] == sum(len(r["input_ids"]) for r in rows)  # no padding
    logits = packed_logits(network, packed, model.pooling.method)
    F.binary_cross_entropy_with_logits(logits, packed["labels"].float()).backward()
    grads = torch.cat([p.grad.flatten() for p in network.parameters() if p.grad is not None])

    torch.testing.assert_close(logits, reference, rtol=1e-4, atol=1e-5)
    assert F.cosine_similarity(grads, reference_grads, dim=0).item() > 0.9999


def test_a_head_that_packing_cannot_read_is_refused():
    import torch

    from peftspec.build.packing import PackingUnsupported, pack, packed_logits

    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.base_model = torch.nn.Identity()
            self.proj = torch.nn.Linear(2, 2)

    with pytest.raises(PackingUnsupported, match="packed batches support"):
        packed_logits(Odd(), pack([{"input_ids": [1, 2]}]), "last")


def test_prediction_with_packed_batches_gives_the_padded_predictions(backbones):
    """`predict` with `pack` as its collator and `packed_logits` as its forward: the padded
    prediction's logits, in row order, and its loss."""
    import numpy as np
    import torch
    from datasets import Dataset

    from peftspec.build.packing import pack, packed_logits
    from peftspec.build.predict import predict
    from peftspec.build.tokenize import collator

    torch.manual_seed(0)
    model = built(backbones["qwen2"], "qwen2", "auto")
    rows = Dataset.from_list(rows_of(model.tokenizer, 11))
    padded = predict(model.model, rows, collator(model.tokenizer), 4, "multi_label")
    method = model.pooling.method
    packed = predict(
        model.model,
        rows,
        pack,
        4,
        "multi_label",
        forward=lambda batch: packed_logits(model.model, batch, method),
    )
    np.testing.assert_allclose(packed.logits, padded.logits, rtol=1e-4, atol=1e-5)
    assert packed.loss == pytest.approx(padded.loss, rel=1e-5)


@pytest.mark.parametrize("kind", list(ADAPTERS))
def test_rounding_the_padded_width_changes_the_shape_not_the_logits(backbones, kind):
    """The GPU pads each batch's width up to a multiple of 8 (`GPU_PAD_MULTIPLE`); the benchmark's
    `pad-longest` arm drops the rounding. Both give the same logits; without a multiple the CPU
    pads to the longest row."""
    import torch

    from peftspec.build.tokenize import GPU_PAD_MULTIPLE, collator

    model = built(backbones[kind], kind, "auto")
    rows = rows_of(model.tokenizer)
    longest = max(len(r["input_ids"]) for r in rows)
    assert longest % GPU_PAD_MULTIPLE  # so rounding really widens the batch
    batches = {
        multiple: collator(model.tokenizer, multiple)([dict(r) for r in rows])
        for multiple in (GPU_PAD_MULTIPLE, 1)
    }
    assert batches[1]["input_ids"].shape[1] == longest
    assert (
        batches[GPU_PAD_MULTIPLE]["input_ids"].shape[1] == -(-longest // GPU_PAD_MULTIPLE) * GPU_PAD_MULTIPLE
    )
    assert collator(model.tokenizer)([dict(r) for r in rows])["input_ids"].shape[1] == longest  # CPU default
    network = model.model.eval()
    with torch.no_grad():
        logits = {
            m: network(**{k: v for k, v in b.items() if k != "labels"}).logits for m, b in batches.items()
        }
    torch.testing.assert_close(logits[GPU_PAD_MULTIPLE], logits[1], rtol=1e-4, atol=1e-5)

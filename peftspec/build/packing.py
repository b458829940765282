"""Padding-free batches for sequence classification (experimental; not a default).

A padded batch of short texts spends work on padding: 32 tweets of 10 to 40 tokens padded to 40
are 1,280 positions for ~900 real tokens. A packed batch concatenates the rows into one sequence
with position ids that restart at each row, so every position is a real token; attention must
not cross rows, and the head must read each row's own pooled vector:

- decoders (a `score` head: Qwen2, Gemma, Llama, ...): position ids and no attention mask, which
  transformers turns into a block-diagonal causal mask (SDPA, eager) or variable-length
  attention (FlashAttention 2); the pooled vector of a row is its last token (or the mean);
- BERT-style encoders (`classifier`, with or without `pooler`): position ids and a block-diagonal
  4D mask; the pooled vector of a row is its first token ([CLS]) through the pooler, or the mean.

`packed_logits` is held to the padded path's logits in tests on tiny Qwen2, Gemma and BERT
models; the GPU benchmark measures it as an evaluation arm before it may become a default.
"""

from __future__ import annotations

from typing import Any

SUPPORTED = "decoders with a `score` head and BERT-style encoders (`classifier`)"


class PackingUnsupported(ValueError):
    """The architecture's head is not one that packed batches know how to read."""


def pack(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows of token ids (unpadded) -> one packed row: `input_ids` and `position_ids` of shape
    (1, total tokens), `lengths` (rows,), and `labels` (rows, ...) when the rows have them."""
    import torch

    ids = [list(row["input_ids"]) for row in rows]
    packed = {
        "input_ids": torch.tensor([[t for row in ids for t in row]], dtype=torch.long),
        "position_ids": torch.tensor([[p for row in ids for p in range(len(row))]], dtype=torch.long),
        "lengths": torch.tensor([len(row) for row in ids], dtype=torch.long),
    }
    if rows and "labels" in rows[0]:
        packed["labels"] = torch.tensor([row["labels"] for row in rows])
    return packed


def _classifier(model):
    """The transformers sequence-classification model inside a PEFT wrapper (or the model)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if get_base is not None else model


def segment_ids(lengths):
    """(T,) the row of each packed position: [0, 0, 1, 1, 1, 2] for lengths 2, 3, 1."""
    import torch

    return torch.repeat_interleave(torch.arange(len(lengths), device=lengths.device), lengths)


def block_mask(lengths, dtype, device):
    """(1, 1, T, T) additive mask: 0 within a row, the dtype's minimum across rows."""
    import torch

    segment = segment_ids(lengths.to(device))
    same = segment[:, None] == segment[None, :]
    mask = torch.zeros(same.shape, dtype=dtype, device=device)
    mask.masked_fill_(~same, torch.finfo(dtype).min)
    return mask[None, None]


def pooled_rows(hidden, lengths, method: str):
    """(1, T, H) packed hidden states -> (rows, H): each row's first token, last token or mean."""
    import torch

    lengths = lengths.to(hidden.device)
    starts = torch.cumsum(lengths, 0) - lengths
    flat = hidden[0]
    if method in ("cls", "pooler"):
        return flat[starts]
    if method == "last":
        return flat[starts + lengths - 1]
    if method == "mean":
        total = torch.zeros(len(lengths), flat.shape[1], dtype=torch.float32, device=flat.device)
        total.index_add_(0, segment_ids(lengths), flat.to(torch.float32))
        return (total / lengths.unsqueeze(1).to(torch.float32)).to(flat.dtype)
    raise PackingUnsupported(f"packed batches cannot pool by {method!r}")


def packed_logits(model, packed: dict[str, Any], pooling: str):
    """Per-row logits (rows, labels) of a packed batch (`pack`), pooling as `pooling` says (the
    method the run's head reads: `last`, `cls`, `pooler` or `mean`)."""
    classifier = _classifier(model)
    backbone = classifier.base_model
    device = next(classifier.parameters()).device
    ids = packed["input_ids"].to(device)
    positions = packed["position_ids"].to(device)
    lengths = packed["lengths"].to(device)
    if hasattr(classifier, "score"):  # decoders: transformers makes the block-diagonal causal mask
        # `forward`, not the call: the pooling hook of `backbone.pooling` reads padded batches; no
        # cache, or transformers does not look for packed rows in the position ids
        hidden = backbone.forward(input_ids=ids, position_ids=positions, use_cache=False).last_hidden_state
        return classifier.score(pooled_rows(hidden, lengths, pooling))
    if hasattr(classifier, "classifier") and pooling in ("cls", "pooler", "mean"):
        dtype = next(p for p in classifier.parameters() if p.is_floating_point()).dtype
        hidden = backbone.forward(
            input_ids=ids,
            position_ids=positions,
            token_type_ids=ids.new_zeros(ids.shape),
            attention_mask=block_mask(lengths, dtype, device),
        ).last_hidden_state
        pooled = pooled_rows(hidden, lengths, pooling)
        pooler = getattr(backbone, "pooler", None)
        if pooling == "pooler" and pooler is not None:
            pooled = pooler(pooled.unsqueeze(1))
        head_dropout = getattr(classifier, "dropout", None)
        return classifier.classifier(head_dropout(pooled) if head_dropout is not None else pooled)
    raise PackingUnsupported(f"{type(classifier).__name__}: packed batches support {SUPPORTED}")

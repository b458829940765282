"""How a sequence becomes the one vector that the classification head reads (`backbone.pooling`).

Self-contained on purpose (torch only, no peftspec import): a merged export whose pooling the
architecture's own head does not do ships a copy of this file, so that
`AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)` pools exactly
as the run did.

The pooled vector replaces what the head reads: the pooler output for heads that classify from a
pooler (BERT-style), every position of the last hidden state for heads that read one position
([CLS] for encoders, the last non-pad token for decoders), so the head sees the pooled vector
wherever it looks. Nothing is done when the chosen pooling is the architecture's own.
"""

from __future__ import annotations

METHODS = ("cls", "pooler", "mean", "last")
CONFIG_KEY = "peftspec_pooling"
"""The `config.json` key that records the pooling of a saved or exported model."""


def native_method(model) -> str:
    """The pooling the architecture's own sequence-classification head does: `last` (decoders,
    which score the last non-pad token), `pooler` (a pooler over [CLS]) or `cls`."""
    if hasattr(model, "score"):
        return "last"
    if getattr(getattr(model, "base_model", None), "pooler", None) is not None:
        return "pooler"
    return "cls"


def pool(hidden, mask, method: str):
    """(batch, length, hidden) -> (batch, hidden). `mask`: 1 for real tokens, 0 for padding (None:
    every token is real). Mean pooling sums in float32."""
    import torch

    if method == "cls":
        return hidden[:, 0]
    if mask is None:
        mask = torch.ones(hidden.shape[:2], dtype=torch.long, device=hidden.device)
    mask = mask[:, -hidden.shape[1] :].to(hidden.device)
    if method == "mean":
        weights = mask.to(torch.float32).unsqueeze(-1)
        total = (hidden.to(torch.float32) * weights).sum(dim=1)
        return (total / weights.sum(dim=1).clamp(min=1.0)).to(hidden.dtype)
    if method == "last":
        positions = torch.arange(mask.shape[1], device=mask.device)
        last = (mask.long() * positions).argmax(dim=1)  # left or right padding alike
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    raise ValueError(f"unknown pooling {method!r}; expected one of {', '.join(METHODS)}")


class PoolingHook:
    """A forward hook (with kwargs) on the backbone's base model that hands the head the pooled vector."""

    def __init__(self, method: str, native: str, pad_token_id: int | None = None):
        self.method, self.native, self.pad_token_id = method, native, pad_token_id

    def __call__(self, module, args, kwargs, output):
        mask = kwargs.get("attention_mask")
        ids = kwargs.get("input_ids", args[0] if args else None)
        if mask is None and ids is not None and self.pad_token_id is not None:
            mask = (ids != self.pad_token_id).long()
        hidden = output[0]
        pooled = pool(hidden, mask, self.method)
        if self.native == "pooler":
            if isinstance(output, tuple):
                return (output[0], pooled, *output[2:])
            output.pooler_output = pooled
            return output
        spread = pooled.unsqueeze(1).expand_as(hidden)
        if isinstance(output, tuple):
            return (spread, *output[1:])
        output.last_hidden_state = spread
        return output


def install(model, method: str) -> bool:
    """Make `model` (a transformers sequence-classification model, before any adapter) pool by
    `method` (or `native`: the head's own), and record it in its config. Returns False when that is
    the head's own pooling (no hook is needed)."""
    native = native_method(model)
    method = native if method == "native" else method
    if method == "pooler" and native != "pooler":
        raise ValueError(f"{type(model).__name__} has no pooler to classify from")
    setattr(model.config, CONFIG_KEY, method)
    if method == native:
        return False
    hook = PoolingHook(method, native, getattr(model.config, "pad_token_id", None))
    model.base_model.register_forward_hook(hook, with_kwargs=True)
    return True

"""Measure one training step's memory on the CPU, tensor by tensor: the weights, the tensors autograd
keeps for backward (activations), the gradients and the optimizer states."""

from __future__ import annotations


def measured_peak(model, batch_size: int, seq: int, vocab: int) -> dict[str, int]:
    import torch

    torch.manual_seed(0)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    weights = sum(p.untyped_storage().nbytes() for p in _unique(model.parameters()))
    saved: dict[int, int] = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            saved[ptr] = t.untyped_storage().nbytes()
        return t

    ids = torch.randint(5, min(vocab, model.config.vocab_size), (batch_size, seq))
    labels = torch.zeros(batch_size, model.config.num_labels)
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
    loss.backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    grads = sum(p.grad.nbytes for p in trainable)
    optimizer = torch.optim.AdamW(trainable)
    optimizer.step()
    states = sum(v.nbytes for s in optimizer.state.values() for v in s.values() if v.dim() > 0)
    return {"weights": weights, "activations": sum(saved.values()), "gradients": grads, "optimizer": states}


def _unique(tensors):
    seen = set()
    for t in tensors:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in seen:
            seen.add(ptr)
            yield t

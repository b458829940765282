"""The numerical checks each lever is held to, the warm-up before the arms, packed evaluation, and
putting back what an arm changed in transformers."""

from __future__ import annotations

import time
from contextlib import contextmanager


@contextmanager
def transformers_restored():
    """Put back what an arm replaced in transformers' modeling modules: Liger swaps their norm and
    MLP classes and rotary function for the whole process, and the next workload's model must be
    built as the user's would be."""
    import sys

    modules = [m for n, m in list(sys.modules.items()) if n.startswith("transformers.models.") and m]
    saved = [(m, dict(vars(m))) for m in modules]
    try:
        yield
    finally:
        for module, names in saved:
            for name, value in names.items():
                if vars(module).get(name) is not value:
                    setattr(module, name, value)


def warm_up(compiled, parts, rows: int, precision: str) -> dict:
    """Before the first arm: one forward and backward of `rows` training rows at every padded width
    the training split produces, and one evaluation of the validation split. What lives for the
    process (the allocator's blocks, kernel choices, oneDNN primitives on a CPU) is then filled
    before the default arm, which runs first, so it pays no more than the arms after it."""
    import numpy as np

    from peftspec.build.predict import predict

    started = time.perf_counter()
    model, train = parts.model, parts.datasets["train"]
    lengths = np.array([len(ids) for ids in train["input_ids"]])
    multiple = getattr(parts.collator, "pad_to_multiple_of", None) or 1
    widths = sorted({-(-int(n) // multiple) * multiple for n in lengths})
    order = np.argsort(lengths, kind="stable")
    device = next(model.parameters()).device
    for width in widths:  # the longest `rows` rows that pad to this width
        picked = order[lengths[order] <= width][-rows:]
        batch = fixed_batch(train.select(picked.tolist()), parts.collator, rows, device)
        forward_backward(model, batch, precision)
    settings = compiled.settings
    predict(
        model, parts.datasets["validation"], parts.collator, settings.eval_batch_size, settings.task,
        precision=precision, training=True,
    )  # fmt: skip
    return {"widths": len(widths), "rows": rows, "seconds": round(time.perf_counter() - started, 2)}


def fixed_batch(dataset, collate, rows: int, device):
    picked = [dataset[i] for i in range(min(rows, len(dataset)))]
    return {k: v.to(device) for k, v in collate(picked).items()}


def forward_backward(model, batch, precision: str):
    """(logits, loss, the trainable parameters' gradients as one vector), dropout off."""
    import contextlib

    import torch

    from peftspec.build.predict import keep_4bit_weights_trainable

    model.eval()
    keep_4bit_weights_trainable(model)  # the CPU 4-bit layers must stay trainable for the arms
    model.zero_grad(set_to_none=True)
    device = next(model.parameters()).device
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16)
        if precision == "bf16" and device.type == "cuda"
        else contextlib.nullcontext()
    )
    with autocast:
        out = model(**batch)
    out.loss.backward()
    grads = torch.cat([p.grad.float().flatten() for p in model.parameters() if p.grad is not None])
    model.zero_grad(set_to_none=True)
    return out.logits.detach().float(), out.loss.detach().float(), grads


def changed_against_eager(parts, precision: str, change):
    """Hold a model changed in place (compiled, patched) to itself before: (what `change(model)`
    returned, the issue's check on a fixed batch of 8 training rows, the seconds of the first
    changed forward and backward, a compile's included)."""
    model = parts.model
    batch = fixed_batch(parts.datasets["train"], parts.collator, 8, next(model.parameters()).device)
    eager = forward_backward(model, batch, precision)
    changed = change(model)
    started = time.perf_counter()
    check = compare(eager, forward_backward(model, batch, precision))
    return changed, check, time.perf_counter() - started


def compare(reference, candidate) -> dict:
    """The issue's check: loss and logits within 1e-2 relative, gradient cosine > 0.999."""
    import torch

    (la, lossa, ga), (lb, lossb, gb) = reference, candidate
    logits_rel = float((la - lb).abs().max() / la.abs().max().clamp_min(1e-12))
    loss_rel = float((lossa - lossb).abs() / lossa.abs().clamp_min(1e-12))
    cosine = float(torch.nn.functional.cosine_similarity(ga, gb, dim=0))
    return {
        "logits_max_rel": logits_rel,
        "loss_rel": loss_rel,
        "grad_cosine": cosine,
        "passed": logits_rel <= 1e-2 and loss_rel <= 1e-2 and cosine > 0.999,
    }


def numerical_checks(compiled, parts, precision: str) -> dict:
    """Evaluation loop, micro-batch cut, padding and fused AdamW against what they replace, on the workload's
    own model and rows (the compile check runs in its arm, since compiling changes the model)."""
    import torch

    from peftspec.build.predict import keep_4bit_weights_trainable, predict

    model, collate = parts.model, parts.collator
    device = next(model.parameters()).device
    val = parts.datasets["validation"]
    sub = val.select(range(min(256, len(val))))
    checks = {}
    # evaluation: peftspec's sorted loop against batches in data order (the Trainer's order)
    settings = compiled.settings
    ours = predict(
        model, sub, collate, settings.eval_batch_size, settings.task, precision=precision, training=True
    )
    plain = []
    model.eval()
    keep_4bit_weights_trainable(model)  # the model trains on in the arms
    with torch.no_grad():
        for first in range(0, len(sub), 8):
            batch = fixed_batch(sub.select(range(first, min(first + 8, len(sub)))), collate, 8, device)
            batch.pop("labels")
            with torch.autocast(
                device.type, dtype=torch.bfloat16, enabled=precision == "bf16" and device.type == "cuda"
            ):
                plain.append(model(**batch).logits.float().cpu())
    plain = torch.cat(plain)
    ours_t = torch.from_numpy(ours.logits)
    rel = float((plain - ours_t).abs().max() / plain.abs().max().clamp_min(1e-12))
    checks["evaluation_loop"] = {"logits_max_rel": rel, "passed": rel <= 1e-2}
    # micro-batch: one pass over E rows against E/m passes of m rows, gradients averaged
    train = parts.datasets["train"]
    effective = 16 if device.type == "cpu" else 64
    whole = fixed_batch(train, collate, effective, device)
    reference = forward_backward(model, whole, precision)
    grads, losses, logits = [], [], []
    for first in range(0, effective, effective // 8):
        part = {k: v[first : first + effective // 8] for k, v in whole.items()}
        l_, loss_, g_ = forward_backward(model, part, precision)
        grads.append(g_), losses.append(loss_), logits.append(l_)
    cut = (torch.cat(logits), torch.stack(losses).mean(), torch.stack(grads).mean(0))
    checks["micro_batch"] = compare(reference, cut)
    checks["micro_batch"]["cut"] = f"{effective} x 1 against {effective // 8} x 8"
    # padding: the same rows padded to a multiple of 8 (the GPU default) and to their longest row
    from peftspec.build.tokenize import GPU_PAD_MULTIPLE, collator

    rows = train.select(_unaligned_rows(train, effective, GPU_PAD_MULTIPLE))
    rounded, longest = (
        fixed_batch(rows, collator(parts.tokenizer, multiple), effective, device)
        for multiple in (GPU_PAD_MULTIPLE, 1)
    )
    checks["pad_longest"] = compare(
        forward_backward(model, rounded, precision), forward_backward(model, longest, precision)
    )
    checks["pad_longest"]["widths"] = [rounded["input_ids"].shape[1], longest["input_ids"].shape[1]]
    # fused AdamW: one step from the same weights and gradients
    trainable = [p for p in model.parameters() if p.requires_grad]
    after = {}
    for fused in (False, True):
        copies = [p.detach().clone().requires_grad_(True) for p in trainable]
        for c, g in zip(copies, _split(reference[2], trainable)):
            c.grad = g.to(c.dtype)
        optimizer = torch.optim.AdamW(copies, lr=1e-4, weight_decay=0.1, fused=fused, foreach=not fused)
        optimizer.step()
        after[fused] = torch.cat([c.detach().float().flatten() for c in copies])
    difference = float((after[True] - after[False]).abs().max())
    checks["fused_adamw"] = {"max_abs_difference": difference, "passed": difference < 1e-5}
    return checks


def _unaligned_rows(dataset, rows: int, multiple: int) -> list[int]:
    """`rows` row indices whose longest is not a multiple of `multiple` (so the two paddings
    differ): the first such row and the first rows no longer than it."""
    lengths = [len(ids) for ids in dataset["input_ids"]]
    anchor = next((i for i, n in enumerate(lengths) if n % multiple), 0)
    others = [i for i, n in enumerate(lengths) if i != anchor and n <= lengths[anchor]]
    return [anchor, *others[: rows - 1]]


def _split(vector, params):
    out, at = [], 0
    for p in params:
        out.append(vector[at : at + p.numel()].view_as(p))
        at += p.numel()
    return out


def packed_evaluation(compiled, parts, precision: str) -> dict:
    """Evaluation of the validation split with padded batches against padding-free packed batches
    (`peftspec.build.packing`): both through peftspec's `predict` (length-sorted, the same rows per
    batch, autocast at the run's precision), each timed after a warm-up pass; the logits must
    agree within 1e-2 relative."""
    import numpy as np

    from peftspec.build.packing import pack, packed_logits
    from peftspec.build.predict import predict

    model, settings = parts.model, compiled.settings
    val = parts.datasets["validation"]
    ways = {
        "padded": {"collate": parts.collator},
        "packed": {"collate": pack, "forward": lambda batch: packed_logits(model, batch, parts.pooling)},
    }
    results = {}
    for name, way in ways.items():
        for _ in range(2):  # the first pass warms every width up; the second is timed
            results[name] = predict(
                model, val, batch_size=settings.eval_batch_size, task=settings.task,
                precision=precision, training=True, **way,
            )  # fmt: skip
    reference, packed = results["padded"].logits, results["packed"].logits
    rel = float(np.abs(reference - packed).max() / max(np.abs(reference).max(), 1e-12))
    return {
        "rows": len(val),
        "padded_samples_per_s": results["padded"].samples_per_second,
        "packed_samples_per_s": results["packed"].samples_per_second,
        "packed_over_padded_speed": results["padded"].runtime / results["packed"].runtime,
        "logits_max_rel": rel,
        "passed": rel <= 1e-2,
    }

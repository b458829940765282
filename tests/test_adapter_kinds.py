"""Every adapter kind on every tiny architecture: compiled from a spec, one real optimizer step, saved,
and reloaded to the same logits. A new kind in `ADAPTERS` is picked up here without a new row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftspec.spec import load_spec
from peftspec.spec.adapters import ADAPTERS
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv

ARCHITECTURES = ["bert", "qwen2", "gemma"]
ATTENTION = {"bert": ["query", "value"], "qwen2": ["q_proj", "v_proj"], "gemma": ["q_proj", "v_proj"]}
FEED_FORWARD = {"bert": "output.dense", "qwen2": "down_proj", "gemma": "down_proj"}


def adapter_table(kind: str, arch: str) -> str:
    """The `[adapter]` table of `kind` for `arch`, naming the architecture's own modules."""
    targets = ATTENTION[arch]
    if kind == "ia3":
        ff = FEED_FORWARD[arch]
        return f'kind = "ia3"\ntarget_modules = {json.dumps([*targets, ff])}\nfeedforward_modules = ["{ff}"]'
    if kind in ("lora", "loha", "lokr"):
        return f'kind = "{kind}"\nr = 4\ntarget_modules = {json.dumps(targets)}'
    if kind == "adalora":
        return f'kind = "adalora"\ninit_r = 4\ntarget_r = 2\ntarget_modules = {json.dumps(targets)}'
    if kind == "prompt_tuning":
        return 'kind = "prompt_tuning"\nnum_virtual_tokens = 4'
    return f'kind = "{kind}"'


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kinds")
    for arch in ARCHITECTURES:
        make_backbone(arch, root / arch)
    write_csv(synthetic_rows(24, seed=3), root / "train.csv")
    write_csv(synthetic_rows(8, seed=4), root / "validation.csv")
    return root


def test_every_kind_is_covered():
    assert set(ADAPTERS) == {"lora", "ia3", "adalora", "loha", "lokr", "prompt_tuning", "none"}


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_kind_trains_a_step_and_reloads(workspace: Path, kind: str, arch: str):
    import torch

    from peftspec.build.compiled import compile_run
    from peftspec.build.model import save_trained

    spec_file = workspace / f"{kind}-{arch}.toml"
    spec_file.write_text(
        f'name = "{kind}-{arch}"\n[dataset]\ntrain = "train.csv"\nvalidation = "validation.csv"\n'
        f"max_length = 24\nlabels.columns = {json.dumps(EMOTIONS)}\n"
        f'[backbone]\nmodel = "./{arch}"\n[adapter]\n{adapter_table(kind, arch)}\n'
        "[trainer]\nmax_steps = 2\nbatch_size = 8\n"
    )
    spec = load_spec(spec_file)
    compiled = compile_run(spec)
    assert compiled.settings.weights == ("model" if kind == "none" else "adapter")
    parts = compiled.build_model()
    model = parts.model
    assert parts.overview.adapter.startswith(kind)
    if spec.adapter.names_modules:
        assert parts.wrapped_modules, f"{kind} wrapped nothing on {arch}"

    batch = parts.collator([parts.datasets["train"][i] for i in range(8)])
    trainable = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    assert trainable, "nothing to train"
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    loss = model(**batch).loss
    assert torch.isfinite(loss)
    loss.backward()
    optimizer.step()
    changed = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, trainable[n])]
    assert changed, "one optimizer step changed no trainable weight"

    inputs = {k: v for k, v in batch.items() if k != "labels"}
    model.eval()
    with torch.inference_mode():
        before = model(**inputs).logits
    folder = workspace / "saved" / f"{kind}-{arch}"
    save_trained(model, parts.tokenizer, folder)
    reloaded, _ = compiled.reload(folder, parts.added_pad_token, parts.pooling)
    with torch.inference_mode():
        after = reloaded(**inputs).logits
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)

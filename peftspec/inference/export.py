"""`peftspec export`: the adapter alone, or a standard HF model with the adapter merged, plus a card."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peftspec.errors import UserError
from peftspec.inference.model_card import Base, adapter_base, model_card
from peftspec.runs import Run, read_run
from peftspec.spec import load_spec


class ExportRefused(UserError):
    """The export asked for cannot be done faithfully; the message says what to do instead."""

    title = "Cannot export"


def export_run(
    path: str | Path,
    out: Path,
    merge: bool = False,
    dtype: str | None = None,
    fmt: str = "hf",
    overwrite: bool = False,
    base_model: str | None = None,
) -> Exported:
    """Export a completed run to `out`: its adapter, or (`merge`) a standard HF model with the
    adapter merged in, with a model card. Everything is written to a temporary folder first and
    moved into `out` at the end: a failed export leaves `out` as it was, and no file in `out` that
    the export does not write is ever removed. `out` must be empty (or `overwrite`, which replaces
    only the files the export writes) and outside the run directory. An adapter export records
    `base_model` (a Hub id) as its base when given, else the spec's model (see `adapter_base`)."""
    from peftspec.build.environment import quiet_libraries

    quiet_libraries()
    run = read_run(path)
    if run.status != "completed":
        raise ExportRefused(f"{run.name} is {run.status}: only completed runs can be exported")
    spec = load_spec(run.paths.spec)
    full = spec.adapter.trains_backbone
    if merge and spec.quantization.method != "none" and dtype is None:
        raise ExportRefused(
            f"{run.name} trained its adapter on a {spec.quantization.method} backbone; merging into "
            "quantised weights would round the merged weights to 4 or 8 bits. Reload the backbone in "
            f"16-bit and merge there: peftspec export {run.paths.root} -o {out} --merge --dtype bfloat16"
        )
    if base_model is not None and (merge or full):
        raise ExportRefused("--base-model names an adapter's base; a merged or fully trained model has none")
    _check_target(run, out, overwrite)
    base = None if merge or full else adapter_base(spec.backbone.model, base_model)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".peftspec-export-", dir=out.parent) as scratch:
        staged = Path(scratch)
        if merge and not full:
            _merged(run, spec, staged, dtype)
        else:
            _copy_folder(run.weights_folder, staged)
            if base is not None:
                _record_base(staged / "adapter_config.json", base)
            if full:
                _full_pooling_code(run, staged)
        if merge or full:
            write_decision(staged / "config.json", run)
        if fmt == "safetensors":
            _keep_weights_only(staged)
        (staged / "README.md").write_text(model_card(run, spec, merge or full, base), encoding="utf-8")
        out.mkdir(exist_ok=True)
        for item in sorted(staged.iterdir()):
            target = out / item.name
            if target.is_dir() or (item.is_dir() and target.exists()):
                raise ExportRefused(f"{target} exists where the export writes {item.name}; remove it first")
            if item.is_dir():
                shutil.move(str(item), target)
            else:
                os.replace(item, target)
    notes = []
    if base is not None and not base.portable:
        notes.append(
            f"the adapter records its base as {base.name}, a folder on this machine; pass "
            "--base-model HUB_ID to record a name that loads anywhere (the model card's snippet "
            "loads the base itself meanwhile)"
        )
    return Exported(out, notes)


@dataclass(frozen=True)
class Exported:
    folder: Path
    notes: list[str]
    """Things the user should know about the export (e.g. a base that is not portable)."""


def _record_base(config_path: Path, base: Base) -> None:
    """Point the adapter's `base_model_name_or_path` at `base`, not at whatever folder the training
    machine loaded it from (PEFT records the loaded path: for a `package:` model, a venv folder)."""
    import json

    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base.name
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _check_target(run: Run, out: Path, overwrite: bool) -> None:
    """Refuse a target inside the run (its own files) or, unless `overwrite`, a non-empty one."""
    target, root = out.resolve(), run.path.resolve()
    if target == root or root in target.parents:
        raise ExportRefused(
            f"{out} is inside the run directory {run.path}; export to a folder outside it",
            hint=f"peftspec export {run.path} -o exported/{run.name}",
        )
    if out.exists() and not out.is_dir():
        raise ExportRefused(f"{out} exists and is not a folder")
    present = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if present and not overwrite:
        shown = ", ".join(present[:5]) + (" ..." if len(present) > 5 else "")
        raise ExportRefused(
            f"{out} is not empty ({shown})",
            hint="export to an empty folder, or pass --overwrite to replace the files the export "
            "writes (other files are left alone)",
        )


def decision(run: Run) -> dict[str, Any]:
    """What a standard sequence-classification config needs to decide as the run does: the label
    names, the task, and the thresholds (multi-label: label i is predicted when sigmoid(logit i) >=
    decision_thresholds[label i]; a binary run with a threshold: the positive (second) class when
    its softmax probability >= decision_thresholds[that class]; otherwise the arg-max class), the
    scores from the logits divided by score_temperature (1 unless `metrics.calibration`)."""
    labels = run.record.labels
    used = run.thresholds_used() or (run.thresholds() or {})
    multi = run.record.task == "multi_label"
    values = dict(used.get("values") or {})
    positive = run.record.task == "binary" and used.get("mode") in ("tuned", "fixed") and bool(values)
    temperature = run.temperature()
    z = "logits / score_temperature" if temperature != 1.0 else "logits"
    rule = f"argmax over softmax({z})"
    if multi:
        rule = f"sigmoid({z.replace('logits', 'logit')}) >= decision_thresholds[label], per label"
    elif positive:
        rule = f"softmax({z})[{labels[1]!r}] >= decision_thresholds[{labels[1]!r}], else {labels[0]!r}"
    return {
        "id2label": {str(i): name for i, name in enumerate(labels)},
        "label2id": {name: i for i, name in enumerate(labels)},
        "num_labels": len(labels),
        "problem_type": "multi_label_classification" if multi else "single_label_classification",
        "decision_thresholds": values if multi or positive else None,
        "decision_rule": rule,
        "score_temperature": temperature,
    }


def write_decision(config_path: Path, run: Run) -> None:
    """Merge `decision(run)` into an exported `config.json`."""
    import json

    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.update(decision(run))
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _copy_folder(source: Path, out: Path) -> None:
    for item in source.iterdir():
        if item.is_file() and item.name != "README.md":
            shutil.copy2(item, out / item.name)


def _merged(run: Run, spec, out: Path, dtype: str | None) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoTokenizer

    from peftspec.build.model import load_backbone, recorded_pooling
    from peftspec.spec.quantization import NoQuantization

    plain = spec.model_copy(deep=True)
    plain.quantization = NoQuantization()  # merge into full-precision weights, never into 4/8-bit ones
    tokenizer = AutoTokenizer.from_pretrained(run.paths.adapter)
    record = run.record
    base, _ = load_backbone(
        plain, record.labels, "fp32", tokenizer, record.added_pad_token, recorded_pooling(record)
    )
    model = PeftModel.from_pretrained(base, run.paths.adapter).merge_and_unload()
    if dtype is not None:
        model = model.to(getattr(torch, dtype))
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    write_pooling_code(model, out)


def write_pooling_code(model, out: Path) -> None:
    """A pooling the architecture's head does not do (mean pooling on BERT, say) cannot be expressed
    in a standard config: write the modeling file that does it and point `auto_map` at it, so the
    export loads with `trust_remote_code=True` and refuses to load silently wrong without it."""
    import json

    from peftspec.build.pooling import REMOTE_CODE_FILE, remote_code

    code = remote_code(model)
    if code is None:
        return
    source, keys = code
    (out / REMOTE_CODE_FILE).write_text(source, encoding="utf-8")
    config_path = out / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.update(keys)
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _full_pooling_code(run: Run, out: Path) -> None:
    """`write_pooling_code` for a fully fine-tuned model (its config records the pooling)."""
    from transformers import AutoModelForSequenceClassification

    from peftspec.build.pooling_head import CONFIG_KEY, install

    model = AutoModelForSequenceClassification.from_pretrained(out)
    install(model, getattr(model.config, CONFIG_KEY, None) or "native")
    write_pooling_code(model, out)


def _keep_weights_only(out: Path) -> None:
    """`--format safetensors`: the weights, their config, the tokenizer and any pooling code; no
    other files."""
    keep = (".safetensors", ".json", ".model", ".txt", ".py")
    for item in out.iterdir():
        if item.is_file() and not item.name.endswith(keep):
            item.unlink()

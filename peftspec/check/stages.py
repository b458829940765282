"""The stages of `peftspec check` after the spec is valid: data, toy backbone, tokenizer, adapter
modules, what a CPU cannot check, then a short real run whose run directory is inspected."""

from __future__ import annotations

from pathlib import Path

from peftspec.check.context import CheckOptions, Locator, absent, local_sources, quiet_console
from peftspec.check.result import SpecCheck, StopCheck
from peftspec.spec.distributed import DistributedSpec
from peftspec.spec.loader import LoadResult
from peftspec.spec.root import Spec

SAMPLE_EVAL_ROWS = 32


def run_stages(report: LoadResult, at: Locator, options: CheckOptions, result: SpecCheck, scratch: Path):
    spec = at.spec
    bundle = _data(spec, result)
    sample = _sample(bundle, spec, options.steps)
    toy = _toy(spec, sample, at, result, scratch)
    _carry_pooling_files(spec, toy.folder)
    toy_spec = _toy_spec(spec, toy.folder, options)
    _tokenizer(toy_spec, toy, at, result)
    _modules(toy_spec, bundle, at, result)
    _not_on_cpu(spec, result)
    _run(report, toy_spec, sample, options, at, result, scratch)


def _data(spec: Spec, result: SpecCheck):
    from peftspec.build.data import load_data
    from peftspec.build.problems import DataError

    missing = absent(local_sources(spec))
    if missing:
        result.add("data", "skipped", f"{missing[0]} is absent here; the check runs on the spec's own data")
        raise StopCheck
    try:
        bundle = load_data(spec.dataset)
    except DataError as exc:
        result.add("data", "failed", "\n".join(str(p) for p in exc.data_problems))
        raise StopCheck from None
    except Exception as exc:  # a hub dataset that is not in the local cache, offline
        result.add("data", "skipped", f"cannot read the data here: {type(exc).__name__}: {exc}")
        raise StopCheck from None
    rows = ", ".join(f"{s.name} {len(s):,}" for s in bundle.splits())
    notes = "".join(f"\nwarning: {w}" for w in bundle.warnings)
    result.add(
        "data",
        "passed",
        f"every row checked ({rows}); {len(bundle.label_names)} labels, {bundle.task}{notes}",
    )
    return bundle


def _sample(bundle, spec: Spec, steps: int):
    """The first rows of each split: enough training rows for `steps` steps (twice over)."""
    from dataclasses import replace

    trainer = spec.trainer
    per_step = min(trainer.batch_size, 8) * min(trainer.gradient_accumulation_steps, 2)
    train_rows = max(2 * steps * per_step, 32)

    def head(split, n):
        return None if split is None else split.take(range(min(n, len(split))), split.name)

    return replace(
        bundle,
        train=head(bundle.train, train_rows),
        validation=head(bundle.validation, SAMPLE_EVAL_ROWS),
        test=head(bundle.test, SAMPLE_EVAL_ROWS),
    )


def _toy(spec: Spec, sample, at: Locator, result: SpecCheck, scratch: Path):
    from peftspec.check.toy import ToyError, build_toy
    from peftspec.plan.config import UnknownArchitecture

    texts = [t for s in sample.splits() for t in s.texts] + [
        p for s in sample.splits() for p in s.pairs or []
    ]
    try:
        toy = build_toy(spec.backbone, texts, scratch / "toy-backbone", seed=spec.trainer.seed)
    except (ToyError, UnknownArchitecture) as exc:
        result.add(
            "backbone", "failed", str(exc), [at.error(("backbone", "model"), "unknown-family", str(exc))]
        )
        raise StopCheck from None
    result.add(
        "backbone",
        "passed",
        f"{toy.architecture} built from {toy.config_source}, shrunk to 2 layers of width 128",
    )
    return toy


def _carry_pooling_files(spec: Spec, folder: Path) -> None:
    """The real backbone's sentence-transformers files, beside the toy's weights: `auto` pooling
    then resolves on the toy as it will on the real backbone."""
    import shutil

    from peftspec.spec.packaged import PackagedModelError, model_source
    from peftspec.spec.trained_pooling import trained_pooling

    try:
        source = model_source(spec.backbone.model)
    except PackagedModelError:
        return
    found = trained_pooling(source, spec.backbone.revision)
    if found is None or not Path(source).is_dir():
        return
    shutil.copy2(Path(source) / "modules.json", folder / "modules.json")
    (folder / found.file).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(source) / found.file, folder / found.file)


def _toy_spec(spec: Spec, folder: Path, options: CheckOptions) -> Spec:
    """The spec pointed at the toy backbone, trained `steps` steps with small batches, no W&B; the
    learning rate is the one the real backbone would get."""
    from peftspec.plan.learning_rate import learning_rate_for

    t = spec.trainer
    evaluates = t.eval_strategy != "no"
    half = max(1, options.steps // 2)
    trainer = t.model_copy(
        update={
            "learning_rate": learning_rate_for(spec).value,
            "max_steps": options.steps,
            "batch_size": min(t.batch_size, 8),
            "eval_batch_size": min(t.eval_batch_size or t.batch_size, 16),
            "gradient_accumulation_steps": min(t.gradient_accumulation_steps, 2),
            "eval_strategy": "steps" if evaluates else "no",
            "eval_steps": half if evaluates else None,
            "save_strategy": "steps",
            "save_steps": half,
            "logging_steps": 1,
            "dataloader_workers": 0,
            "precision": cpu_precision(t.precision),
            "optimizer": cpu_optimizer(t.optimizer),
        }
    )
    backbone = spec.backbone.model_copy(
        update={
            "model": str(folder),
            "tokenizer": None,
            "revision": None,
            "attention": "sdpa"
            if spec.backbone.attention == "flash_attention_2"
            else spec.backbone.attention,
        }
    )
    tracking = spec.tracking.model_copy(
        update={
            "wandb": None,
            "output_root": options.keep_root or str(folder.parent / "runs"),
            "run_name": f"{spec.tracking.run_name or spec.name}-check",
        }
    )
    single = DistributedSpec()  # one process: [distributed] is listed as not checked
    return spec.model_copy(
        update={"trainer": trainer, "backbone": backbone, "tracking": tracking, "distributed": single}
    )


def cpu_precision(requested: str) -> str:
    """fp16 mixed precision needs a GPU; bf16 runs on CPUs (slowly), so it is kept."""
    return "fp32" if requested == "fp16" else requested


def cpu_optimizer(name: str) -> str:
    """Paged optimizers page GPU memory; on a CPU their unpaged twin runs the same update."""
    return {"paged_adamw_32bit": "adamw_torch", "paged_adamw_8bit": "adamw_8bit"}.get(name, name)


def _tokenizer(toy_spec: Spec, toy, at: Locator, result: SpecCheck) -> None:
    from peftspec.build.model import ModelError, build_tokenizer

    try:
        tokenizer, added = build_tokenizer(toy_spec.backbone)
    except ModelError as exc:
        diagnostic = at.error(("backbone", "pad_token"), "no-pad-token", str(exc), "new")
        result.add("tokenizer", "failed", str(exc), [diagnostic])
        raise StopCheck from None
    pad = "added <pad>" if added else f"pad token {tokenizer.pad_token!r}"
    result.add("tokenizer", "passed", f"{toy.tokenizer_source}; {pad}")


def _modules(toy_spec: Spec, bundle, at: Locator, result: SpecCheck) -> None:
    from transformers import AutoModelForSequenceClassification

    from peftspec.check.modules import module_problems

    if not toy_spec.adapter.names_modules:
        result.add("adapter", "passed", f"{toy_spec.adapter.kind}: no module names to check")
        return
    model = AutoModelForSequenceClassification.from_pretrained(
        toy_spec.backbone.model, num_labels=len(bundle.label_names)
    )
    problems = list(module_problems(toy_spec.adapter, model))
    if problems:
        diagnostics = [at.error(*p) for p in problems]
        result.add("adapter", "failed", "\n".join(d.message for d in diagnostics), diagnostics)
        raise StopCheck
    targets = toy_spec.adapter.targets()
    named = ", ".join(targets) if isinstance(targets, list) else targets or "peft's default modules"
    result.add("adapter", "passed", f"{toy_spec.adapter.kind} on {named}: present in {type(model).__name__}")


def _not_on_cpu(spec: Spec, result: SpecCheck) -> None:
    """What a CPU run cannot prove; listed so nobody mistakes the check for more than it is."""
    notes = []
    if spec.backbone.attention == "flash_attention_2":
        notes.append(("attention", "flash_attention_2 needs a CUDA GPU and flash-attn; checked with sdpa"))
    precision = spec.trainer.precision
    if precision in ("bf16", "fp16"):
        notes.append(
            (
                "precision",
                f"{precision} on the GPU (bf16 needs Ampere or newer); checked with "
                f"{cpu_precision(precision)} on the CPU",
            )
        )
    elif precision == "auto":
        notes.append(("precision", "auto picks bf16 or fp16 on a GPU; fp32 ran here"))
    if spec.trainer.optimizer != cpu_optimizer(spec.trainer.optimizer):
        notes.append(
            (
                "optimizer",
                f"{spec.trainer.optimizer} pages GPU memory; checked with "
                f"{cpu_optimizer(spec.trainer.optimizer)}",
            )
        )
    if spec.quantization.method != "none":
        notes.append(
            ("quantization", "bitsandbytes' CUDA kernels; its CPU kernels ran the same quantisation")
        )
    if not spec.backbone.model.startswith("package:") and not Path(spec.backbone.model).is_dir():
        notes.append(("weights", f"downloading {spec.backbone.model} (and access, for gated models)"))
    dist = spec.distributed
    if dist.strategy != "none":
        notes.append(
            (
                "distributed",
                f"{dist.strategy} over {dist.processes_per_node * dist.nodes} processes; "
                "checked in one process",
            )
        )
    if spec.tracking.wandb is not None:
        notes.append(("tracking", "W&B logging (no network here); the run directory was checked instead"))
    for name, detail in notes:
        result.add(name, "unchecked", detail)


def _run(report: LoadResult, toy_spec: Spec, sample, options: CheckOptions, at: Locator, result, scratch):
    from peftspec.api import run_spec
    from peftspec.build.model import ModelError
    from peftspec.check.inspect import diverged, inspect_run
    from peftspec.train.callbacks import TrainingDiverged

    try:
        outcome = run_spec(
            toy_spec, report.files, list(options.overrides), data=sample, console=quiet_console()
        )
    except TrainingDiverged as exc:
        diverged(exc.step, toy_spec, result, at)
        raise StopCheck from None
    except ModelError as exc:
        result.add("training", "failed", f"cannot build the model: {exc}")
        raise StopCheck from None
    except Exception as exc:
        result.add("training", "failed", f"{type(exc).__name__}: {exc}")
        raise StopCheck from None
    result.run_dir = str(outcome.paths.root) if options.keep_root and outcome.paths else None
    inspect_run(outcome.paths.root, toy_spec, result, at)

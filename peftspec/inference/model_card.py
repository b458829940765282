"""The exported folder's README.md: what was trained, how it scored, and code that loads it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from peftspec.runs import Run
from peftspec.runs.record import task_line
from peftspec.spec.paths import PACKAGE_PREFIX
from peftspec.spec.render import render_spec


@dataclass(frozen=True)
class Base:
    """Where an adapter export's base model comes from."""

    name: str
    """What `adapter_config.json` records as `base_model_name_or_path`."""
    portable: bool
    """A Hub id (loads anywhere), not a folder on the exporting machine."""
    package: str | None = None
    """`package:NAME[/SUBDIR]` when the backbone ships inside a Python package."""


def adapter_base(model: str, override: str | None) -> Base:
    """The base an adapter export records: `override` (`--base-model`) when given, the spec's Hub id
    as written, else the folder this machine loaded (a local folder, or a package's model folder)."""
    from peftspec.spec.packaged import model_source

    if override:
        return Base(override, True)  # the user's word that this name loads where the adapter goes
    if model.startswith(PACKAGE_PREFIX):
        return Base(model_source(model), False, model)
    if os.path.isabs(model) or os.path.exists(model):
        return Base(os.path.abspath(model), False)
    return Base(model, True)


def model_card(run: Run, spec, merged: bool, base: Base | None = None) -> str:
    """The card: front matter for the Hub, facts, the final evaluation, a loading snippet that
    decides as the run does, the data hashes and the spec."""
    record, evaluation = run.record, run.evaluations()
    overview, model = record.overview, record.model
    front = ["---", "library_name: " + ("transformers" if merged else "peft")]
    if base is not None and base.portable:
        front.append(f"base_model: {base.name}")
    front += ["pipeline_tag: text-classification", "tags:", "- peftspec", "---", ""]
    lines = [
        *front,
        f"# {run.display_name}",
        "",
        spec.description or "A text classifier fine-tuned with peftspec.",
        "",
        f"- Backbone: `{record.backbone}` ({model.architecture if model else '-'})",
        f"- Adapter: {overview.adapter if overview else record.adapter}"
        + (" (merged into the backbone)" if merged and not spec.adapter.trains_backbone else ""),
        f"- Quantisation during training: {record.quantization}",
        f"- Pooling: {_pooling_line(record)}",
        f"- Task: {task_line(record.task, len(record.labels), record.positive_class)}"
        f"; labels: {', '.join(record.labels)}",
        f"- Rows: {', '.join(f'{k} {v:,}' for k, v in record.rows.items())}"
        + (f"; validation held out: {overview.held_out}" if overview and overview.held_out else ""),
        f"- Run: `{run.name}`, peftspec {record.versions.get('peftspec') or '-'}",
        "",
        "## Evaluation",
        "",
        _metrics_table(evaluation),
        "## Use",
        "",
        *(_base_note(base) if base is not None and not merged else []),
        "```python",
        *(_use_merged(_needs_code(record)) if merged else _use_adapter(run, spec, base)),
        *_decide(run, spec, merged),
        "```",
        "",
        "## Data",
        "",
        *[f"- `{p}`: sha256 `{h}`" for p, h in record.data_hashes.items()],
        "",
        "## Spec",
        "",
        "```toml",
        render_spec(spec).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def _metrics_table(evaluation: dict[str, Any]) -> str:
    splits = [s for s in ("validation", "test") if s in evaluation]
    if not splits:
        return "No final evaluation recorded.\n"
    names = [
        k
        for k, v in evaluation[splits[0]].items()
        if isinstance(v, float) and k not in ("runtime", "samples_per_second")
    ]
    rows = [
        f"| {n} | " + " | ".join(f"{evaluation[s].get(n, float('nan')):.4f}" for s in splits) + " |"
        for n in names
    ]
    return "\n".join([f"| metric | {' | '.join(splits)} |", "|---|" + "---:|" * len(splits), *rows]) + "\n"


def _pooling_line(record) -> str:
    pooling = record.model.pooling if record.model is not None else None
    if pooling is None:
        return "the architecture's own head"
    if _needs_code(record):
        return (
            f"{pooling}, which the architecture's own head does not do: this folder ships it as "
            "code (`peftspec_pooling.py`), so load with `trust_remote_code=True` (an adapter-only "
            "export needs `peftspec predict`, or `peftspec export --merge`)"
        )
    return pooling


def _needs_code(record) -> bool:
    """The run pooled in a way its architecture's own head does not."""
    model = record.model
    return model is not None and model.pooling is not None and model.pooling != model.head_pooling


def _base_note(base: Base) -> list[str]:
    if base.portable:
        return []
    where = "a folder on the machine that exported it"
    if base.package is not None:
        where = f"the model folder of the Python package `{base.package.removeprefix(PACKAGE_PREFIX)}`"
    return [
        f"The adapter's recorded base model is {where}, not a Hub id; the snippet loads the base "
        "itself. Export with `--base-model HUB_ID` to record a name that loads anywhere.",
        "",
    ]


def _use_merged(code: bool) -> list[str]:
    trust = ", trust_remote_code=True" if code else ""
    return [
        "import torch",
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
        f'model = AutoModelForSequenceClassification.from_pretrained("<this folder>"{trust}).eval()',
        f'tokenizer = AutoTokenizer.from_pretrained("<this folder>"{trust})',
    ]


def _use_adapter(run: Run, spec, base: Base | None) -> list[str]:
    """Load the adapter over its base with the run's labels (the base's own config has other
    `num_labels`), through `AutoPeftModelForSequenceClassification` when the base is a Hub id."""
    record = run.record
    multi = record.task == "multi_label"
    kwargs = [
        "    num_labels=len(labels),",
        "    id2label=dict(enumerate(labels)),",
        "    label2id={name: i for i, name in enumerate(labels)},",
        f'    problem_type="{"multi_label" if multi else "single_label"}_classification",',
        "    pad_token_id=tokenizer.pad_token_id,",
    ]
    if spec.backbone.revision and (base is None or base.name == spec.backbone.model):
        kwargs.append(f"    revision={spec.backbone.revision!r},")
    labels = [
        f"labels = {list(record.labels)!r}",
        'tokenizer = AutoTokenizer.from_pretrained("<this folder>")',
    ]
    if base is None or base.portable:
        return [
            "import torch",
            "from peft import AutoPeftModelForSequenceClassification",
            "from transformers import AutoTokenizer",
            "",
            *labels,
            "model = AutoPeftModelForSequenceClassification.from_pretrained(",
            '    "<this folder>",',
            *kwargs,
            ").eval()",
        ]
    if base.package is not None:
        name, folder = _package_parts(base)
        where = [
            f"package = os.path.dirname(importlib.util.find_spec({name!r}).origin)",
            f"base_path = os.path.join(package, {folder!r})  # the backbone inside its package",
        ]
    else:
        where = [f"base_path = {base.name!r}  # the backbone's folder"]
    return [
        *(["import importlib.util", "import os", ""] if base.package is not None else []),
        "import torch",
        "from peft import PeftModel",
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
        "",
        *labels,
        *where,
        "base = AutoModelForSequenceClassification.from_pretrained(",
        "    base_path,",
        *kwargs,
        ")",
        'model = PeftModel.from_pretrained(base, "<this folder>").eval()',
    ]


def _package_parts(base: Base) -> tuple[str, str]:
    """(import name, model folder relative to the package) for a `package:` base."""
    from peftspec.spec.packaged import package_root

    name = base.package.removeprefix(PACKAGE_PREFIX).partition("/")[0].replace("-", "_")
    return name, os.path.relpath(base.name, package_root(name))


def _cut_note(truncate: str, max_length: int) -> list[str]:
    """Where the run cut long texts, when a plain `truncation=True` does not say it."""
    if truncate == "start":
        return [
            "    # cuts a long text at its start, as the run did: the saved tokenizer truncates on the left"
        ]
    if truncate == "middle":
        return [
            f'    # the run cut texts over {max_length} tokens in the middle (dataset.truncate = "middle"):',
            "    # the first quarter and the last three quarters of the tokens; `truncation=True` keeps",
            "    # the beginning only, `peftspec predict` and `peftspec serve` cut as the run did",
        ]
    return []


def _decide(run: Run, spec, merged: bool) -> list[str]:
    """Score texts (with their second texts, for a run on pairs) and decide as the run does: its
    `max_length`, its tuned thresholds or the arg-max. A merged export's config carries the
    thresholds; the adapter's snippet spells them out."""
    from peftspec.inference.export import decision

    pairs = spec.dataset.text_pair_column is not None
    inputs = "texts, pairs" if pairs else "texts"
    second = 'pairs = ["the pair of the first", "the pair of the second"]  # the second text of each'
    lines = [
        "",
        'texts = ["first text to label", "second text"]',
        *([second] if pairs else []),
        "with torch.no_grad():",
        f"    batch = tokenizer({inputs}, padding=True, truncation=True, "
        f'max_length={spec.dataset.max_length}, return_tensors="pt")',
        *_cut_note(spec.dataset.truncate, spec.dataset.max_length),
        "    logits = model(**batch).logits",
    ]
    temperature = run.temperature()
    if temperature != 1.0:  # metrics.calibration: the scores the run reports come from logits / T
        value = "model.config.score_temperature" if merged else repr(temperature)
        lines.append(f"logits = logits / {value}  # the run's calibration temperature, fitted on validation")
    if run.record.task != "multi_label":
        rule = decision(run)
        if rule["decision_thresholds"]:  # a binary run decided at a threshold on its positive class
            (label, cut) = next(iter(rule["decision_thresholds"].items()))
            tuned = (run.thresholds_used() or run.thresholds() or {}).get("mode") == "tuned"
            source = "tuned by the run" if tuned else "set by the spec"
            value = f"model.config.decision_thresholds[{label!r}]" if merged else f"{float(cut)!r}"
            return [
                *lines,
                "scores = torch.softmax(logits, -1)",
                f"threshold = {value}  # on the probability of {label!r}, {source}",
                "predicted = [model.config.id2label[int(p >= threshold)] for p in scores[:, 1].tolist()]",
            ]
        return [
            *lines,
            "scores = torch.softmax(logits, -1)",
            "predicted = [model.config.id2label[int(i)] for i in logits.argmax(-1)]",
        ]
    if merged:
        spelled = [
            "labels = [model.config.id2label[i] for i in range(model.config.num_labels)]",
            "thresholds = model.config.decision_thresholds  # tuned by the run, one per label",
        ]
    else:
        values = {k: float(v) for k, v in decision(run)["decision_thresholds"].items()}
        spelled = [f"thresholds = {values!r}  # tuned by the run, one per label"]
    return [
        *lines,
        *spelled,
        "scores = torch.sigmoid(logits)",
        "predicted = [",
        "    [name for j, name in enumerate(labels) if row[j] >= thresholds[name]] for row in scores",
        "]",
    ]

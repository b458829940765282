"""`backbone.pooling` resolved against the loaded backbone: which pooling, why, and which modules
on that path would otherwise stay frozen and untrained. The pooling itself is in
`peftspec.build.pooling_head`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from peftspec.build.head import CLASSIFICATION_HEADS
from peftspec.build.pooling_head import native_method
from peftspec.spec.trained_pooling import trained_pooling


@dataclass(frozen=True)
class Pooling:
    method: str
    """cls, pooler, mean or last."""
    native: str
    """The pooling the architecture's own head does."""
    reason: str
    train: list[str] = field(default_factory=list)
    """Modules that the pooling path needs and that are trained in full (added to `modules_to_save`)."""
    why_trained: str = ""

    def line(self) -> str:
        """For the plan: `mean (sentence-transformers checkpoint, 1_Pooling/config.json: ...)`."""
        text = f"{self.method} ({self.reason})"
        if self.train:
            text += f"; trained in full: {', '.join(self.train)} ({self.why_trained})"
        return text


class PoolingError(ValueError):
    pass


def choose(requested: str, model, source: str, revision: str | None, missing: list[str]) -> Pooling:
    """The pooling for `requested` (`auto` or a method) on a loaded sequence-classification `model`
    from `source`; `missing`: the parameters the checkpoint did not have (newly initialised)."""
    native = native_method(model)
    kind = type(model).__name__
    trained = trained_pooling(source, revision, download=not os.path.isdir(source))
    if requested == "auto":
        if trained is not None:
            method, reason = trained.method, trained.reason()
        else:
            method, reason = native, f"{kind}'s own head"
    else:
        method = requested
        reason = "backbone.pooling" + (f"; {kind}'s own head" if method == native else "")
        if method == "pooler" and native != "pooler":
            raise PoolingError(
                f"{kind} has no pooler to classify from; set backbone.pooling to "
                f'"auto", "cls", "mean" or "last"'
            )
    train, why = _untrained(method, native, model, missing, trained is not None)
    return Pooling(method, native, reason, train, why)


def _untrained(method: str, native: str, model, missing: list[str], sentence_model: bool):
    """Modules outside the head that the forward pass uses but the checkpoint never trained."""
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    fresh = sorted({key.removeprefix(prefix).split(".")[0] for key in missing} - set(CLASSIFICATION_HEADS))
    if method != "pooler" and native == "pooler":
        fresh = [name for name in fresh if name != "pooler"]  # computed but not read
    if fresh:
        return fresh, "newly initialised: the checkpoint has no weights for them"
    if method == "pooler" and sentence_model:
        return ["pooler"], "a sentence-transformers checkpoint never trains its pooler"
    return [], ""


REMOTE_CODE_FILE = "peftspec_pooling.py"


def remote_code(model) -> tuple[str, dict[str, str]] | None:
    """For a model whose pooling its architecture's head does not do: the source of a modeling
    file (this package's `pooling_head`, plus subclasses of the model's config and class that
    install it) and the config keys (`model_type`, `auto_map`, `architectures`) that make
    `AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)` load it.
    The model type is new, so a load without `trust_remote_code` fails instead of silently pooling
    the head's way. None when the head's own pooling is used."""
    import inspect

    from peftspec.build import pooling_head

    method = getattr(model.config, pooling_head.CONFIG_KEY, None)
    if method is None or method == native_method(model):
        return None
    base, config = type(model).__name__, type(model.config).__name__
    model_type = f"peftspec_pooled_{model.config.model_type}"
    source = inspect.getsource(pooling_head).rstrip() + (
        "\n\n\n"
        f"from transformers import {base} as _Base, {config} as _BaseConfig\n\n\n"
        f"class Pooled{config}(_BaseConfig):\n"
        f'    model_type = "{model_type}"\n\n\n'
        f"class Pooled{base}(_Base):\n"
        f'    """`{base}` pooling as the peftspec run did (`config.{pooling_head.CONFIG_KEY}`)."""\n\n'
        f"    config_class = Pooled{config}\n\n"
        "    def __init__(self, config, *args, **kwargs):\n"
        "        super().__init__(config, *args, **kwargs)\n"
        '        install(self, getattr(config, CONFIG_KEY, None) or "native")\n'
    )
    module = REMOTE_CODE_FILE.removesuffix(".py")
    return source, {
        "model_type": model_type,
        "architectures": [f"Pooled{base}"],
        "auto_map": {
            "AutoConfig": f"{module}.Pooled{config}",
            "AutoModelForSequenceClassification": f"{module}.Pooled{base}",
        },
    }

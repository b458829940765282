"""What a backbone's own files say about how it was trained to pool (no torch, no download by
default): sentence-transformers checkpoints name their pooling in `modules.json` and the pooling
module's `config.json`. Read by `backbone.pooling = "auto"` and by lint."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

SENTENCE_TRANSFORMERS_MODES = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_lasttoken": "last",
    "pooling_mode_mean_sqrt_len_tokens": "mean",
    "pooling_mode_weightedmean_tokens": "mean",
    "pooling_mode_max_tokens": "mean",
}
"""sentence-transformers pooling modes -> the pooling peftspec does (max and the weighted means have
no exact counterpart: mean is the closest, and `TrainedPooling.exact` says so)."""
EXACT = {"pooling_mode_mean_tokens", "pooling_mode_cls_token", "pooling_mode_lasttoken"}


@dataclass(frozen=True)
class TrainedPooling:
    """The pooling a sentence-transformers checkpoint was trained with."""

    method: str
    file: str
    """Which file says so, relative to the model folder (`1_Pooling/config.json`)."""
    mode: str
    """The sentence-transformers mode key that is on."""

    @property
    def exact(self) -> bool:
        return self.mode in EXACT

    def reason(self) -> str:
        text = f"sentence-transformers checkpoint, {self.file}: {self.mode}"
        return text if self.exact else f"{text}, closest: {self.method}"


def trained_pooling(
    source: str, revision: str | None = None, download: bool = False
) -> TrainedPooling | None:
    """The pooling recorded by the sentence-transformers files of `source` (a local folder, or a Hub
    id read from the local cache, or downloaded when `download`), or None when it has none."""
    modules = _read(source, "modules.json", revision, download)
    if not isinstance(modules, list):
        return None
    for entry in modules:
        if isinstance(entry, dict) and str(entry.get("type", "")).endswith("models.Pooling"):
            file = f"{entry.get('path') or ''}/config.json".lstrip("/")
            config = _read(source, file, revision, download)
            if not isinstance(config, dict):
                return None
            for mode, method in SENTENCE_TRANSFORMERS_MODES.items():
                if config.get(mode) is True:
                    return TrainedPooling(method, file, mode)
            return None
    return None


def _read(source: str, file: str, revision: str | None, download: bool):
    path = (
        os.path.join(source, file) if os.path.isdir(source) else _hub_file(source, file, revision, download)
    )
    if path is None or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _hub_file(repo: str, file: str, revision: str | None, download: bool) -> str | None:
    try:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache
    except ImportError:
        return None
    try:
        cached = try_to_load_from_cache(repo, file, revision=revision)
        if isinstance(cached, str):
            return cached
        if download:
            return hf_hub_download(repo, file, revision=revision)
    except Exception:  # not a repo id, offline, no such file: the files say nothing
        return None
    return None

"""The real architecture of a backbone, without downloading weights: its config from a local
folder, the local Hugging Face cache, or the built-in family table."""

from __future__ import annotations

import os

from peftspec.errors import UserError
from peftspec.spec.backbone import BackboneSpec
from peftspec.spec.packaged import model_source


class UnknownArchitecture(UserError):
    """No config can be found for this backbone here; the message says how to get one."""

    title = "Unknown architecture"


def real_config(backbone: BackboneSpec):
    """(config, where it came from): a local folder, the local HF cache, or the built-in family table."""
    from transformers import AutoConfig

    from peftspec.plan.families import UnknownFamily, config_for

    source = model_source(backbone.model)
    common = {"trust_remote_code": backbone.trust_remote_code}
    if os.path.isdir(source):
        return AutoConfig.from_pretrained(source, **common), f"local folder {source}"
    try:
        config = AutoConfig.from_pretrained(
            source, revision=backbone.revision, local_files_only=True, **common
        )
        return config, "the local Hugging Face cache"
    except (OSError, ValueError):
        pass
    try:
        return config_for(backbone.model), "peftspec's built-in family table"
    except UnknownFamily as exc:
        raise UnknownArchitecture(str(exc)) from None

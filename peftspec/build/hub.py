"""Before a run directory is made: is the backbone on this machine, or can it be fetched? And is
the Hub reachable for a hub dataset, or must it come from the `datasets` cache?

A Hub model that is neither cached nor reachable used to fail inside the run, after the data was
read, as a failed run directory and (offline) half a minute of retries. `check_reachable` asks
once, with one request: the model's `config.json` at the spec's revision. What it says names the
spec key and what to do: no network or `HF_HUB_OFFLINE` (fetch it where there is one, or use a
local folder), no such model (or a private one), a gated one (accept its licence and log in), no
such revision, no `config.json` (not a transformers model).

Loading from the Hub retries an unreachable Hub for every file it might need, printing each retry,
before it falls back to the cache: about 23 s per dataset split (`datasets`), over three minutes
for a cached tiny BERT (transformers). `hub_unreachable` asks once per process; when the Hub is out
of reach, models (`cache_only_if_unreachable`) and dataset splits (`cache_only`) are read
from the cache at once, or refused with what to do.
"""

from __future__ import annotations

import contextlib
import functools
import os

from peftspec.build.model import ModelError
from peftspec.spec.backbone import BackboneSpec
from peftspec.spec.packaged import model_source

TIMEOUT_S = 10.0


def check_reachable(backbone: BackboneSpec) -> None:
    """Return when `backbone.model` (and a Hub `backbone.tokenizer`) is a local folder, is in the
    Hugging Face cache, or can be fetched; raise `ModelError` saying what to do otherwise."""
    sources = [("backbone.model", backbone.model)]
    if backbone.tokenizer and backbone.tokenizer != backbone.model:
        sources.append(("backbone.tokenizer", backbone.tokenizer))
    for key, name in sources:
        source = model_source(name)
        if os.path.isdir(source) or _cached(source, backbone.revision):
            continue
        _ask_the_hub(key, source, backbone.revision)


def _cached(repo: str, revision: str | None) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo, "config.json", revision=revision), str)
    except Exception:  # not a repo id at all: the Hub answers that below
        return False


def _ask_the_hub(key: str, repo: str, revision: str | None) -> None:
    from urllib.parse import quote

    from huggingface_hub import constants, get_hf_file_metadata
    from huggingface_hub.utils import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
        validate_repo_id,
    )

    at = f"{key} = {repo!r}" + (f" (revision {revision!r})" if revision else "")
    fetch = (
        f"fetch it where there is a network (`hf download {repo}`) and copy that Hugging Face cache "
        "(HF_HOME) here, or set backbone.model to a local folder"
    )
    try:
        validate_repo_id(repo)
    except HFValidationError as exc:
        raise ModelError(f"{at} is neither a folder here nor a Hub model id ({exc})") from None
    if constants.HF_HUB_OFFLINE:
        raise ModelError(f"{at} is not in the Hugging Face cache here, and HF_HUB_OFFLINE is set: {fetch}")
    try:
        url = f"{constants.ENDPOINT}/{repo}/resolve/{quote(revision or 'main', safe='')}/config.json"
        get_hf_file_metadata(url, timeout=TIMEOUT_S)
    except GatedRepoError:  # before RepositoryNotFoundError: it is one
        raise ModelError(
            f"{at} is gated: accept its licence at {constants.ENDPOINT}/{repo} and log in here "
            "(`hf auth login`, or set HF_TOKEN)"
        ) from None
    except RepositoryNotFoundError:
        raise ModelError(
            f"{at}: no such model on the Hub (or it is private: log in with `hf auth login` or set "
            "HF_TOKEN); check the id, or use a local folder"
        ) from None
    except RevisionNotFoundError:
        raise ModelError(f"{at}: the model has no such revision (a branch, tag or commit)") from None
    except EntryNotFoundError:
        raise ModelError(f"{at} has no config.json: it is not a transformers model") from None
    except HfHubHTTPError as exc:
        raise ModelError(f"{at}: the Hub answered {exc}") from None
    except Exception as exc:  # no network: the HTTP library's own connection or timeout error
        raise ModelError(
            f"{at} is not in the Hugging Face cache here, and the Hub cannot be reached "
            f"({type(exc).__name__}: {exc}): {fetch}"
        ) from None


@functools.cache
def hub_unreachable(endpoint: str) -> str | None:
    """Why the Hub at `endpoint` cannot be reached (one request, no retries, asked once per
    process), or None when it answers anything at all."""
    from huggingface_hub import get_session

    try:
        get_session().head(endpoint, timeout=TIMEOUT_S)
    except Exception as exc:  # the HTTP library's own connection or timeout error
        return f"{type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def cache_only_if_unreachable(*names: str | None):
    """While this lasts, huggingface_hub (and so transformers and peft) reads only its cache, as
    under HF_HUB_OFFLINE=1, when one of the models `names` is on the Hub and the Hub cannot be
    reached: a cached model then loads at once, not after minutes of retries for every file it
    might have. Elsewhere it changes nothing."""
    from huggingface_hub import constants

    on_hub = [name for name in names if name and not os.path.isdir(model_source(name))]
    if not on_hub or constants.HF_HUB_OFFLINE or hub_unreachable(constants.ENDPOINT) is None:
        yield
        return
    with cache_only(constants):
        yield


@contextlib.contextmanager
def cache_only(settings):
    """`settings.HF_HUB_OFFLINE` set while this lasts: the library whose settings these are
    (`huggingface_hub.constants`, `datasets.config`) reads only its cache, as under
    HF_HUB_OFFLINE=1."""
    before = settings.HF_HUB_OFFLINE
    settings.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        settings.HF_HUB_OFFLINE = before

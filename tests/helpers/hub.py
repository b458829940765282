"""A Hub out of reach, and hub datasets in the `datasets` cache as a download leaves them: what a
compute node without internet has."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest


def closed_port_url() -> str:
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed.getsockname()[1]}"


def cache_hub_dataset(cache: Path, repo: str, splits: dict[str, Path], features=None) -> None:
    """Lay `splits` (csv or jsonl files) out in the `datasets` cache as a download of `repo` leaves
    them: `datasets` itself writes the Arrow files (with `features`, if given), which are then
    named for the repo."""
    import json
    import shutil

    from datasets import load_dataset

    builder = "csv" if next(iter(splits.values())).suffix == ".csv" else "json"
    staging = cache / "staging"
    files = {k: str(v) for k, v in splits.items()}
    load_dataset(builder, data_files=files, cache_dir=str(staging), features=features)
    built = next((staging / builder).glob("*/*/*/dataset_info.json")).parent
    name = repo.split("/")[-1]
    target = cache / repo.replace("/", "___") / "default" / "0.0.0" / built.name
    shutil.copytree(built, target)
    for split in splits:
        (target / f"{builder}-{split}.arrow").rename(target / f"{name}-{split}.arrow")
    info = json.loads((target / "dataset_info.json").read_text())
    (target / "dataset_info.json").write_text(json.dumps({**info, "builder_name": name}))
    shutil.rmtree(staging)


@pytest.fixture(name="hub_unreachable")
def no_hub(monkeypatch, tmp_path):
    """No Hub (a closed port), an empty `datasets` cache under tmp_path, HF_HUB_OFFLINE unset."""
    from datasets import config

    from peftspec.build.hub import hub_unreachable

    monkeypatch.setattr(config, "HF_ENDPOINT", closed_port_url())
    monkeypatch.setattr(config, "HF_DATASETS_CACHE", str(tmp_path / "datasets-cache"))
    monkeypatch.setattr(config, "HF_HUB_OFFLINE", False)
    hub_unreachable.cache_clear()
    yield tmp_path / "datasets-cache"
    hub_unreachable.cache_clear()

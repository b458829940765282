"""Before a run directory is made, a Hub backbone that is neither cached nor fetchable is an error
that says what to do: a real HTTP client against a stand-in Hub on 127.0.0.1 answering as the Hub
does (its X-Error-Code headers), a closed port for "no network", and HF_HUB_OFFLINE."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from peftspec.build.hub import check_reachable
from peftspec.build.model import ModelError
from peftspec.spec.backbone import BackboneSpec
from tests.helpers.cli import peftspec

ANSWERS = {  # repo -> (status, X-Error-Code), as huggingface.co answers a HEAD of its config.json
    "org/model": (200, None),
    "org/no-such-model": (404, "RepoNotFound"),
    "org/gated-model": (401, "GatedRepo"),
    "org/not-transformers": (404, "EntryNotFound"),
}


class StandInHub(BaseHTTPRequestHandler):
    def do_HEAD(self):  # /{org}/{name}/resolve/{revision}/config.json
        parts = self.path.strip("/").split("/")
        repo, revision = "/".join(parts[:2]), parts[3]
        status, code = ANSWERS.get(repo, (404, "RepoNotFound"))
        if revision != "main" and status == 200:
            status, code = 404, "RevisionNotFound"
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def stand_in_hub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInHub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def hub(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))  # nothing cached
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with stand_in_hub() as url:
        monkeypatch.setattr(constants, "ENDPOINT", url)
        yield url


def refusal(model: str, **backbone) -> str:
    with pytest.raises(ModelError) as info:
        check_reachable(BackboneSpec(model=model, **backbone))
    return str(info.value)


def test_what_the_hub_answers_is_said_with_what_to_do(hub):
    check_reachable(BackboneSpec(model="org/model"))  # fetchable: no error
    assert "no such model on the Hub (or it is private" in refusal("org/no-such-model")
    gated = refusal("org/gated-model")
    assert "is gated: accept its licence" in gated and f"{hub}/org/gated-model" in gated
    assert "no such revision" in refusal("org/model", revision="v9")
    assert "has no config.json" in refusal("org/not-transformers")
    assert "is neither a folder here nor a Hub model id" in refusal("not a model id!")


def test_no_network_and_offline_mode_say_how_to_get_the_model(monkeypatch, tmp_path):
    from huggingface_hub import constants

    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    unreachable = refusal("org/model")
    assert "the Hub cannot be reached" in unreachable and "`hf download org/model`" in unreachable
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert "HF_HUB_OFFLINE is set" in refusal("org/model")


def test_a_local_folder_needs_no_hub(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    (tmp_path / "model").mkdir()
    check_reachable(BackboneSpec(model=str(tmp_path / "model")))


def test_run_refuses_before_it_makes_a_run_directory(hub, tmp_path: Path):
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    make_tiny_workspace(tmp_path)
    spec = write_tiny_lora_spec(tmp_path, "hub", dropout=0.0, trainer="epochs = 1")
    spec.write_text(spec.read_text().replace('model = "./bert"', 'model = "org/no-such-model"'))
    proc = peftspec(tmp_path, "run", "hub.toml")
    assert proc.returncode == 1
    assert "backbone.model = 'org/no-such-model': no such model on the Hub" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "runs-hub").exists()

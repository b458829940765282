"""Before a run directory is made, a Hub backbone that is neither cached nor fetchable is an error
that says what to do: a real HTTP client against a stand-in Hub on 127.0.0.1 answering as the Hub
does (its X-Error-Code headers), a closed port for "no network", and HF_HUB_OFFLINE."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from peftspec.build.hub import check_reachable
from peftspec.build.model import ModelError
from peftspec.spec.backbone import BackboneSpec
from tests.helpers.cli import peftspec
from tests.helpers.hub import cache_hub_dataset, closed_port_url, no_hub  # noqa: F401 (the hub_unreachable fixture)

ANSWERS = {  # repo -> (status, X-Error-Code), as huggingface.co answers a HEAD of its config.json
    "org/model": (200, None),
    "org/no-such-model": (404, "RepoNotFound"),
    "org/gated-model": (401, "GatedRepo"),
    "org/not-transformers": (404, "EntryNotFound"),
}


class StandInHub(BaseHTTPRequestHandler):
    def do_HEAD(self):  # /{org}/{name}/resolve/{revision}/config.json
        parts = self.path.strip("/").split("/")
        if len(parts) < 5:  # not a file of a model (the Hub's own pages): answered all the same
            parts = ["no", "page", "resolve", "main", ""]
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

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "ENDPOINT", closed_port_url())
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    unreachable = refusal("org/model")
    assert "the Hub cannot be reached" in unreachable and "`hf download org/model`" in unreachable
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert "HF_HUB_OFFLINE is set" in refusal("org/model")


def cache_hub_model(cache: Path, repo: str, folder: Path) -> None:
    """`folder` laid out in the Hugging Face cache as a download of `repo` leaves it."""
    import shutil

    root = cache / f"models--{repo.replace('/', '--')}"
    shutil.copytree(folder, root / "snapshots" / "0123abcd")
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text("0123abcd")


def test_a_cached_model_is_read_from_the_cache_at_once_when_the_hub_is_out_of_reach(monkeypatch, tmp_path):
    """transformers retries an unreachable Hub for every file a model might have: over three
    minutes for a cached tiny BERT here. peftspec asks once, then reads the cache."""
    import time

    from huggingface_hub import constants

    from peftspec.build.hub import cache_only_if_unreachable, hub_unreachable
    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    make_tiny_workspace(tmp_path)
    cache_hub_model(tmp_path / "hf-cache", "org/tinybert", tmp_path / "bert")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "ENDPOINT", closed_port_url())
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    hub_unreachable.cache_clear()
    with cache_only_if_unreachable(str(tmp_path / "bert")):  # a folder: nothing to ask
        assert constants.HF_HUB_OFFLINE is False
    with cache_only_if_unreachable("org/tinybert"):
        assert constants.HF_HUB_OFFLINE is True
    assert constants.HF_HUB_OFFLINE is False  # only while it lasts
    spec = write_tiny_lora_spec(tmp_path, "cached", dropout=0.0, trainer="max_steps = 2")
    spec.write_text(spec.read_text().replace('model = "./bert"', 'model = "org/tinybert"'))
    start = time.perf_counter()
    proc = peftspec(tmp_path, "run", "cached.toml")
    took = time.perf_counter() - start
    hub_unreachable.cache_clear()
    assert proc.returncode == 0, proc.stderr
    assert took < 60, f"{took:.0f} s: the Hub's retries were not skipped"
    run = next((tmp_path / "runs-cached").iterdir())
    start = time.perf_counter()
    proc = peftspec(tmp_path, "predict", str(run), "test.csv", "-o", "labelled.csv")
    assert proc.returncode == 0, proc.stderr
    assert time.perf_counter() - start < 30, "predict waited for the Hub"


def test_a_reachable_hub_is_used_as_usual(hub):
    from huggingface_hub import constants

    from peftspec.build.hub import cache_only_if_unreachable, hub_unreachable

    hub_unreachable.cache_clear()
    with cache_only_if_unreachable("org/model"):
        assert constants.HF_HUB_OFFLINE is False
    hub_unreachable.cache_clear()


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


# Hub datasets: `datasets` retries an unreachable Hub for ~23 s per split (printing each retry)
# before it looks in its cache. One request decides; an unreachable Hub means the cache, at once.


def test_an_unreachable_hub_refuses_an_uncached_dataset_at_once(hub_unreachable):
    import time

    from peftspec.build.problems import DataError
    from peftspec.build.tables import read_source
    from peftspec.spec.dataset import HubSource
    from peftspec.spec.reader import ReaderOptions

    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        read_source(HubSource(hub="org/emotions"), ReaderOptions(), None)
    took = time.perf_counter() - start
    said = str(info.value)
    assert "hub:org/emotions[train]: the Hub cannot be reached from here (ConnectError" in said
    assert f"not in the datasets cache ({hub_unreachable})" in said and "save its splits as files" in said
    assert took < 5, f"{took:.1f} s: datasets' retries were not skipped"


def test_a_cached_hub_dataset_trains_with_no_hub(hub_unreachable, tmp_path: Path):
    import time

    from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

    make_tiny_workspace(tmp_path)
    cache_hub_dataset(
        hub_unreachable, "org/emotions", {"train": tmp_path / "train.csv", "test": tmp_path / "test.csv"}
    )
    spec = write_tiny_lora_spec(tmp_path, "hubdata", dropout=0.0, trainer="max_steps = 2")
    text = spec.read_text().replace('train = "train.csv"', 'train = { hub = "org/emotions" }')
    spec.write_text(text.replace('test = "test.csv"', 'test = { hub = "org/emotions", split = "test" }'))
    start = time.perf_counter()
    proc = peftspec(tmp_path, "run", "hubdata.toml", "--dry-run")
    took = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert "Retrying" not in proc.stderr + proc.stdout
    assert "train 128, validation 32, test 40" in proc.stdout  # both splits read from the cache
    assert took < 20, f"{took:.1f} s: datasets' retries were not skipped"


def test_a_hub_datasets_class_labels_name_the_labels_in_its_order(hub_unreachable, tmp_path: Path):
    """A `ClassLabel` column holds class indices. Its names become the label names, in the
    dataset's order and with classes no training row has (a single class, and a list of them);
    a spec that reads the column as indices with its own names still can; -1 is "no label"."""
    from datasets import ClassLabel, Features, List, Value

    from peftspec.build.data import load_data
    from peftspec.build.problems import DataError
    from peftspec.spec import load_spec
    from tests.helpers.tiny import write_jsonl

    moods = ["sad", "happy", "calm", "bored"]  # not alphabetical; no training row is bored
    rows = [{"text": f"t{i}", "mood": i % 3, "tags": [i % 2, 2] if i % 4 else []} for i in range(12)]
    write_jsonl(rows, tmp_path / "train.jsonl")
    write_jsonl([{"text": "u0", "mood": -1, "tags": []}, *rows[:3]], tmp_path / "test.jsonl")
    features = Features(
        {
            "text": Value("string"),
            "mood": ClassLabel(names=moods),
            "tags": List(ClassLabel(names=["x", "y", "z"])),
        }
    )
    splits = {"train": tmp_path / "train.jsonl", "test": tmp_path / "test.jsonl"}
    cache_hub_dataset(hub_unreachable, "org/moods", splits, features)

    def load(labels: str, task: str = "multi_class", test: bool = False):
        test_line = 'test = { hub = "org/moods", split = "test" }\n' if test else ""
        spec = tmp_path / "spec.toml"
        spec.write_text(
            f'name = "moods"\n[backbone]\nmodel = "m"\n[dataset]\ntask = "{task}"\n'
            f'train = {{ hub = "org/moods" }}\n{test_line}labels = {labels}\nvalidation_split = 0.25\n'
        )
        return load_data(load_spec(spec).dataset)

    single = load('{ format = "single", column = "mood" }')
    assert single.label_names == moods
    (key, digest), again = single.hashes.popitem(), load('{ format = "single", column = "mood" }').hashes
    assert key == "hub:org/moods[train]" and len(digest) == 64 and again == {key: digest}  # what was read
    seen = {t: single.label_names[c] for s in single.splits() for t, c in zip(s.texts, s.labels)}
    assert seen == {r["text"]: moods[r["mood"]] for r in rows}
    assert any("label 'bored' has no positive example" in w.message for w in single.warnings)

    listed = load('{ format = "delimited", column = "tags" }', task="multi_label")
    assert listed.label_names == ["x", "y", "z"]
    tagged = {
        t: [listed.label_names[j] for j in m.nonzero()[0]]
        for s in listed.splits()
        for t, m in zip(s.texts, s.labels)
    }
    assert tagged == {r["text"]: [["x", "y", "z"][j] for j in sorted(set(r["tags"]))] for r in rows}

    renamed = load('{ format = "single", column = "mood", values = "indices", names = ["S", "H", "C", "B"] }')
    assert renamed.label_names == ["S", "H", "C", "B"]
    assert [renamed.label_names[c] for c in renamed.train.labels] == [
        "SHC"[int(t[1:]) % 3] for t in renamed.train.texts
    ]

    with pytest.raises(DataError) as info:
        load('{ format = "single", column = "mood" }', test=True)
    (problem,) = info.value.errors
    assert (problem.file, problem.row) == ("hub:org/moods[test]", 1)
    assert problem.message.startswith(
        "no label. A single-label task needs a class on every row: label these rows"
    )


def test_init_guesses_a_spec_from_a_hub_dataset(hub_unreachable, tmp_path: Path):
    """`init --data hub:ID`: its ClassLabel column is the labels (not another column of few values,
    which a file's guess would take), its splits are validation and test, a test split without
    labels (-1) is left out, and the positive class is the dataset's second."""
    import tomllib

    from datasets import ClassLabel, Features, Value

    from peftspec.spec import check_spec
    from tests.helpers.cli import peftspec as command
    from tests.helpers.tiny import write_jsonl

    def rows(n: int, unlabelled: bool = False) -> list[dict]:
        return [
            {
                "idx": i,
                "sentence": f"words of row {i} here",
                "mood": -1 if unlabelled else i % 2,
                "source": "ab"[i % 3 == 0],
            }
            for i in range(n)
        ]

    splits = {"train": 40, "validation": 10, "test": 10}
    for split, n in splits.items():
        write_jsonl(rows(n, unlabelled=split == "test"), tmp_path / f"{split}.jsonl")
    features = Features(
        {
            "idx": Value("int32"),
            "sentence": Value("string"),
            "mood": ClassLabel(names=["sad", "happy"]),
            "source": Value("string"),
        }
    )
    cache_hub_dataset(hub_unreachable, "org/moods", {s: tmp_path / f"{s}.jsonl" for s in splits}, features)
    proc = command(tmp_path, "init", "moods.toml", "--data", "hub:org/moods")
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    dataset = tomllib.loads((tmp_path / "moods.toml").read_text())["dataset"]
    assert dataset["train"] == {"hub": "org/moods", "split": "train"}
    assert dataset["validation"] == {"hub": "org/moods", "split": "validation"} and "test" not in dataset
    assert dataset["labels"] == {"format": "single", "column": "mood"}
    assert dataset["text_column"] == "sentence" and dataset["id_column"] == "idx"
    assert "the 'test' split has no labels (all -1), so it is left out" in said
    assert "f1, precision and recall on 'happy'" in said  # the dataset's class 1, not the sorted second
    assert "rows: train 40, validation 10; multi-class, 2 labels: sad, happy" in said
    report = check_spec(tmp_path / "moods.toml")
    assert report.spec is not None and report.diagnostics == [], report.diagnostics

"""`peftspec serve` for real: uvicorn on 127.0.0.1 (a free port), a real HTTP client, tiny trained
runs (two LoRA/IA3 runs on one BERT, which share it, and one on Qwen2)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from peftspec.serve.app import create_app  # noqa: E402
from peftspec.serve.loading import load_served  # noqa: E402
from peftspec.serve.options import ServeOptions  # noqa: E402
from tests.helpers.cli import peftspec  # noqa: E402
from tests.helpers.server import running  # noqa: E402
from tests.helpers.specs import train_tiny_runs  # noqa: E402
from tests.helpers.tiny import EMOTIONS, make_backbone, synthetic_rows, write_csv  # noqa: E402

ADAPTERS = {
    "bert-lora": ("bert", 'kind = "lora"\nr = 4\ntarget_modules = ["query", "value"]'),
    "bert-ia3": (
        "bert",
        'kind = "ia3"\ntarget_modules = ["value", "output.dense"]\nfeedforward_modules = ["output.dense"]',
    ),
    "qwen-lora": ("qwen2", 'kind = "lora"\nr = 4\ntarget_modules = ["q_proj", "v_proj"]'),
}
TEXTS = [r["text"] for r in synthetic_rows(60, seed=9)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:

    root = tmp_path_factory.mktemp("serve")
    for kind in ("bert", "qwen2"):
        make_backbone(kind, root / kind)
    write_csv(synthetic_rows(96, seed=1), root / "train.csv")
    write_csv(synthetic_rows(32, seed=2), root / "validation.csv")
    return train_tiny_runs(root, ADAPTERS, extra="max_length = 24\n", epochs=1)


@pytest.fixture(scope="module")
def served(runs):
    return load_served([runs[n] for n in ADAPTERS])


@pytest.fixture(scope="module")
def server(served):
    with running(create_app(served, ServeOptions(max_texts=32, max_body_bytes=20_000))) as (url, _):
        yield url


def test_outputs_equal_peftspec_predict(runs, server):
    proc = peftspec(
        runs["bert-ia3"].parent, "predict", str(runs["bert-ia3"]), "-", stdin="\n".join(TEXTS[:10]).encode()
    )
    assert proc.returncode == 0, proc.stderr
    expected = [json.loads(line) for line in proc.stdout.splitlines()]
    answer = httpx.post(f"{server}/v1/classify", json={"texts": TEXTS[:10], "model": "bert-ia3"}, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "bert-ia3" and body["run_id"] == runs["bert-ia3"].name
    for row, result in zip(expected, body["results"]):
        assert result["labels"] == row["predicted"]
        for label in EMOTIONS:
            assert result["scores"][label] == pytest.approx(row[f"score_{label}"], abs=1e-5)


def test_runs_on_one_backbone_share_its_weights(served, server):
    lora, ia3, qwen = served

    def weight(s):
        return s.loaded.model.get_base_model().bert.embeddings.word_embeddings.weight

    assert weight(lora) is weight(ia3)  # one tensor, two runs
    assert weight(lora).data_ptr() == weight(ia3).data_ptr()
    assert qwen.backbone_key != lora.backbone_key
    models = {m["name"]: m for m in httpx.get(f"{server}/v1/models").json()["models"]}
    assert models["bert-lora"]["shares_backbone_with"] == [ia3.run_id]
    assert models["qwen-lora"]["shares_backbone_with"] == []
    assert models["bert-ia3"]["labels"] == EMOTIONS and models["bert-ia3"]["threshold_mode"] == "tuned"
    # sharing changes nothing: each run alone gives the same scores
    alone = load_served([lora.loaded.run.path])[0].loaded.predict(TEXTS[:8]).scores
    np.testing.assert_allclose(lora.loaded.predict(TEXTS[:8]).scores, alone, atol=1e-6)


BAD_REQUESTS = [
    ("not JSON", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not-json"),
    ("JSON sent as a form", {"data": {"texts": "a"}}, 415, "not-json"),
    ("texts not a list", {"json": {"texts": "hello", "model": "bert-lora"}}, 422, "invalid-request"),
    ("a number as text", {"json": {"texts": [1], "model": "bert-lora"}}, 422, "invalid-request"),
    ("empty list", {"json": {"texts": [], "model": "bert-lora"}}, 422, "invalid-request"),
    ("unknown key", {"json": {"texts": ["a"], "modle": "x"}}, 422, "invalid-request"),
    ("text for texts", {"json": {"text": "a", "model": "bert-lora"}}, 422, "invalid-request"),
    ("unknown model", {"json": {"texts": ["a"], "model": "gpt-5"}}, 404, "unknown-model"),
    ("no such route", {"url": "/v1/classfy", "json": {"texts": ["a"]}}, 404, "not-found"),
    ("GET for POST", {"method": "GET", "url": "/v1/classify"}, 405, "method-not-allowed"),
    ("model left out", {"json": {"texts": ["a"]}}, 422, "model-required"),
    ("too many texts", {"json": {"texts": ["a"] * 33, "model": "bert-lora"}}, 413, "too-many-texts"),
    ("body too large", {"json": {"texts": ["word " * 5000], "model": "bert-lora"}}, 413, "body-too-large"),
    (
        "too long, refused",
        {"json": {"texts": ["happy " * 40], "model": "bert-lora", "truncate": False}},
        422,
        "text-too-long",
    ),
]


@pytest.mark.parametrize(
    ("case", "request_args", "status", "code"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_input_gets_a_clear_json_error(server, case, request_args, status, code):
    args = dict(request_args)
    method, url = args.pop("method", "POST"), args.pop("url", "/v1/classify")
    answer = httpx.request(method, f"{server}{url}", timeout=30, **args)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    said = {  # an unknown field is answered with the one it is closest to
        "unknown key": "modle: unknown field; did you mean 'model'?",
        "text for texts": "text: unknown field; did you mean 'texts'?",
        "JSON sent as a form": "send JSON with `Content-Type: application/json`",
        "no such route": "no route POST /v1/classfy; the routes are GET /docs",
        "GET for POST": "GET /v1/classify is not served; use POST /v1/classify",
    }
    assert said.get(case, "") in error["message"]
    if code in ("unknown-model", "model-required"):
        assert len(error["details"]["models"]) == 3 and any(
            m.startswith("bert-lora-") for m in error["details"]["models"]
        )


def test_the_hugging_face_client_reads_predict_as_it_reads_an_inference_endpoint(server, monkeypatch):
    """`huggingface_hub.InferenceClient`, unchanged, against `/predict/{model}`: every label's score
    as `/v1/classify` gives it, highest first; `top_k` and `function_to_apply` as the pipeline's."""
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", False)  # the server is local, not the Hub
    text = TEXTS[3]
    classified = httpx.post(f"{server}/v1/classify", json={"texts": [text], "model": "bert-ia3"}, timeout=60)
    expected = classified.json()["results"][0]["scores"]
    client = hub.InferenceClient(model=f"{server}/predict/bert-ia3", timeout=60)
    got = client.text_classification(text)
    assert [e.label for e in got] == sorted(expected, key=lambda label: -expected[label])
    assert all(e.score == pytest.approx(expected[e.label], abs=1e-6) for e in got)
    assert [e.label for e in client.text_classification(text, top_k=2)] == [e.label for e in got[:2]]
    logits = {e.label: e.score for e in client.text_classification(text, function_to_apply="none")}
    for label, score in expected.items():  # a multi-label run's scores are the sigmoids of its logits
        assert 1 / (1 + np.exp(-logits[label])) == pytest.approx(score, abs=1e-6)
    softmax = client.text_classification(text, function_to_apply="softmax")
    assert sum(e.score for e in softmax) == pytest.approx(1.0)


def test_the_openai_client_moderates_with_the_runs_labels_and_thresholds(served, server):
    """`openai.OpenAI(base_url=.../v1).moderations.create`, unchanged: each label a category,
    decided at the run's thresholds and scored as `/v1/classify` labels and scores it; `flagged`
    when any is. Images, empty texts and unknown fields are refused with a JSON error it raises."""
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="not-checked", max_retries=0, timeout=60)
    texts = TEXTS[:6]
    classified = httpx.post(f"{server}/v1/classify", json={"texts": texts, "model": "bert-lora"}, timeout=60)
    expected = classified.json()["results"]
    moderated = client.moderations.create(input=texts, model="bert-lora")
    assert moderated.model == "bert-lora" and moderated.id.startswith("modr-")
    assert len(moderated.results) == len(texts)
    for result, want in zip(moderated.results, expected, strict=True):
        categories = result.categories.model_dump(exclude_none=True)  # the run's labels, not OpenAI's
        assert categories == {label: label in want["labels"] for label in EMOTIONS}
        assert result.category_scores.model_dump(exclude_none=True) == pytest.approx(want["scores"], abs=1e-6)
        assert result.flagged == bool(want["labels"])
    listed = {m.id: m for m in client.models.list()}  # what a client calls first: the runs' ids
    assert set(listed) == {s.run_id for s in served} and {m.owned_by for m in listed.values()} == {"peftspec"}
    assert all(m.created > 1.7e9 for m in listed.values())  # when each was trained
    one = client.moderations.create(input=texts[1], model="bert-lora").results
    objects = client.moderations.create(input=[{"type": "text", "text": texts[1]}], model="bert-lora").results
    assert len(one) == len(objects) == 1
    for alone in (one[0], objects[0]):  # batched with other requests' texts or not: scores to float error
        assert (
            alone.categories == moderated.results[1].categories
            and alone.flagged == moderated.results[1].flagged
        )
        scores = moderated.results[1].category_scores.model_dump(exclude_none=True)
        assert alone.category_scores.model_dump(exclude_none=True) == pytest.approx(scores, abs=1e-5)
    refused = {
        "input[1]: images are not moderated here": [
            {"type": "text", "text": "fine"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
        "input(s) 1 are empty: nothing to moderate": ["fine", "  "],
    }
    for said, inputs in refused.items():
        with pytest.raises(openai.UnprocessableEntityError) as info:
            client.moderations.create(input=inputs, model="bert-lora")
        assert said in info.value.body["message"], info.value.body
    with pytest.raises(openai.NotFoundError, match="no run named 'gpt'"):
        client.moderations.create(input="hello", model="gpt")
    typo = httpx.post(f"{server}/v1/moderations", json={"inputs": ["hi"], "model": "bert-lora"}, timeout=30)
    assert (
        typo.status_code == 422
        and "inputs: unknown field; did you mean 'input'?" in typo.json()["error"]["message"]
    )


def test_a_moderation_flags_what_the_run_decides_and_a_multi_class_run_is_refused():
    from types import SimpleNamespace

    from peftspec.inference.loaded import Labelled
    from peftspec.serve.labelling import RequestError
    from peftspec.serve.moderation import _check, moderated

    multi = Labelled(np.array([[0.2, 0.7], [0.1, 0.3]]), np.array([[0, 1], [0, 0]]), ["insult", "threat"])
    results = moderated("multi_label", ["insult", "threat"], multi)
    assert [r.categories for r in results] == [
        {"insult": False, "threat": True},
        {"insult": False, "threat": False},
    ]
    assert [r.flagged for r in results] == [True, False]
    assert results[1].category_scores == {"insult": 0.1, "threat": 0.3}
    scores = np.array([[0.9, 0.1], [0.35, 0.65], [0.6, 0.4]])
    labelled = Labelled(scores, np.array([0, 1, 1]), ["ham", "spam"])  # decided at a tuned 0.3
    results = moderated("binary", ["ham", "spam"], labelled)
    assert [r.categories for r in results] == [{"spam": False}, {"spam": True}, {"spam": True}]
    assert [r.flagged for r in results] == [False, True, True]
    assert [r.category_scores["spam"] for r in results] == pytest.approx([0.1, 0.65, 0.4])
    run = SimpleNamespace(
        name="topics", pairs=False, loaded=SimpleNamespace(task="multi_class", label_names=["a", "b", "c"])
    )
    with pytest.raises(RequestError) as info:
        _check(run, ["a text"])
    assert info.value.status == 422 and "POST /v1/classify" in info.value.message


def test_predict_takes_batches_as_text_embeddings_inference_does_and_refuses_what_it_cannot_label(server):
    texts = TEXTS[:5]
    classified = httpx.post(f"{server}/v1/classify", json={"texts": texts, "model": "qwen-lora"}, timeout=60)
    answer = httpx.post(f"{server}/predict/qwen-lora", json={"inputs": texts}, timeout=60)
    assert answer.status_code == 200, answer.text
    for ranked, result in zip(answer.json(), classified.json()["results"], strict=True):
        assert {e["label"]: e["score"] for e in ranked} == pytest.approx(result["scores"], abs=1e-6)
        assert [e["score"] for e in ranked] == sorted((e["score"] for e in ranked), reverse=True)
    raw = httpx.post(f"{server}/predict/qwen-lora", json={"inputs": texts[0], "raw_scores": True}).json()
    assert min(e["score"] for e in raw[0]) < 0 or max(e["score"] for e in raw[0]) > 1  # logits, not scores

    def refused(url: str, body=None, method="POST") -> dict:
        reply = httpx.request(method, f"{server}{url}", json=body, timeout=30)
        assert 400 <= reply.status_code < 500, reply.text
        return {"status": reply.status_code, **reply.json()["error"]}

    several = refused("/predict", {"inputs": "hello"})  # three runs: the URL names one
    assert (several["code"], several["message"]) == (
        "model-required",
        "several runs are served: post to /predict/{model}",
    )
    empty = refused("/predict/bert-lora", {"inputs": ["happy", "  ", ""]})
    assert (empty["status"], empty["code"], empty["details"]) == (422, "empty-input", {"indices": [1, 2]})
    assert refused("/predict/bert-lora", {"inputs": [["a", "b"]]})["code"] == "unexpected-text-pairs"
    assert refused("/predict/gpt-5", {"inputs": "a"})["code"] == "unknown-model"
    said = {
        "parameters.topk: unknown field; did you mean 'top_k'?": {"inputs": "a", "parameters": {"topk": 2}},
        "inputs[1]: a text pair is [text, text_pair], two strings": {"inputs": [["a", "b"], ["c"]]},
        "inputs[0]: unknown key 'txt'; did you mean 'text'?": {"inputs": [{"txt": "a"}]},
        "inputs mix shapes": {"inputs": ["a", ["b", "c"]]},
        "inputs: send at least one input": {"inputs": []},
        "raw_score: unknown field; did you mean 'raw_scores'?": {"inputs": "a", "raw_score": True},
    }
    for message, body in said.items():
        error = refused("/predict/bert-lora", body)
        assert (error["status"], error["code"]) == (422, "invalid-request") and message in error["message"]
    too_long = refused("/predict/bert-lora", {"inputs": "happy " * 40, "truncate": False})
    assert too_long["code"] == "text-too-long"
    wrong_method = refused("/predict/bert-lora", method="GET")
    assert (wrong_method["status"], wrong_method["details"]["routes"]) == (405, ["POST /predict/{model}"])


def test_empty_and_long_texts_are_kept_and_flagged(server):
    texts = ["", "   ", "happy " * 40, TEXTS[0]]
    answer = httpx.post(
        f"{server}/v1/classify", json={"texts": texts, "model": "bert-lora"}, timeout=30
    ).json()
    flags = [r["flags"] for r in answer["results"]]
    assert flags == [["empty"], ["empty"], ["truncated"], []]
    assert answer["results"][0]["labels"] is None and answer["results"][2]["labels"] is not None


def test_metrics_and_health(server):
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"
    text = httpx.get(f"{server}/metrics").text
    assert "peftspec_requests_total" in text and "peftspec_batch_rows_bucket" in text
    assert "peftspec_request_seconds_bucket" in text
    assert httpx.get(f"{server}/openapi.json").json()["paths"]["/v1/classify"]


def test_the_api_key_is_enforced_on_every_route_but_healthz(served):
    with running(create_app(served, ServeOptions(api_key="s3cret"))) as (url, _):
        body = {"texts": ["hello"], "model": "bert-lora"}
        assert httpx.post(f"{url}/v1/classify", json=body).status_code == 401
        assert httpx.get(f"{url}/v1/models").status_code == 401
        assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(f"{url}/healthz").status_code == 200
        ok = httpx.post(f"{url}/v1/classify", json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        hugging_face = {"inputs": "hello"}  # Hugging Face's route too: its client sends the key as a token
        assert httpx.post(f"{url}/predict/bert-lora", json=hugging_face).status_code == 401
        keyed = httpx.post(
            f"{url}/predict/bert-lora", json=hugging_face, headers={"Authorization": "Bearer s3cret"}
        )
        assert keyed.status_code == 200
        moderation = {"input": "hello", "model": "bert-lora"}  # and OpenAI's, whose client sends its key so
        assert httpx.post(f"{url}/v1/moderations", json=moderation).status_code == 401
        keyed = httpx.post(
            f"{url}/v1/moderations", json=moderation, headers={"Authorization": "Bearer s3cret"}
        )
        assert keyed.status_code == 200


def test_concurrent_clients_get_their_own_answers(served, server):
    """8 clients x 100 requests of 1-16 texts: no error, every text's answer is its own."""
    expected = {}
    for run in served:
        labelled = run.loaded.predict(TEXTS)
        for text, labels, scores in zip(TEXTS, labelled.labels(), labelled.scores):
            expected[(run.name, text)] = (labels, scores)

    async def client(seed: int) -> int:
        rng = random.Random(seed)
        checked = 0
        async with httpx.AsyncClient(base_url=server, timeout=60) as http:
            for _ in range(100):
                run = rng.choice(served)
                texts = rng.sample(TEXTS, rng.randint(1, 16))
                answer = await http.post("/v1/classify", json={"texts": texts, "model": run.run_id})
                assert answer.status_code == 200, answer.text
                for text, result in zip(texts, answer.json()["results"], strict=True):
                    labels, scores = expected[(run.name, text)]
                    assert result["labels"] == labels
                    got = [result["scores"][name] for name in run.loaded.label_names]
                    np.testing.assert_allclose(got, scores, atol=1e-5)
                    checked += 1
        return checked

    async def main():
        return await asyncio.gather(*(client(seed) for seed in range(8)))

    before = _batches(server)
    checked = asyncio.run(main())
    assert sum(checked) >= 800
    assert _batches(server) - before < 800  # requests were joined into fewer forward passes


def _batches(url: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("peftspec_batch_rows_count"):
            return float(line.split()[-1])
    return 0.0


def test_a_full_queue_answers_503_and_shutdown_finishes_what_is_in_flight(served):
    slow = served[0]
    original = slow.loaded.predict

    started = threading.Event()

    def predict(texts, pairs=None, progress=None):
        started.set()
        time.sleep(1.0)  # long enough that a loaded machine's burst still finds the queue full
        return original(texts, pairs, progress)

    slow.loaded.predict = predict
    try:
        options = ServeOptions(queue_size=1, max_wait_ms=0.0)
        with running(create_app(served, options)) as (url, server):

            async def burst():
                async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                    body = {"texts": ["hello"], "model": slow.run_id}
                    return await asyncio.gather(*(http.post("/v1/classify", json=body) for _ in range(6)))

            answers = asyncio.run(burst())
            codes = sorted(a.status_code for a in answers)
            assert 200 in codes and 503 in codes, codes
            assert all(a.headers.get("retry-after") == "1" for a in answers if a.status_code == 503)

            result: dict = {}

            def in_flight():
                result["answer"] = httpx.post(
                    f"{url}/v1/classify", json={"texts": ["hi"], "model": slow.run_id}, timeout=60
                )

            started.clear()
            worker = threading.Thread(target=in_flight)
            worker.start()
            assert started.wait(timeout=30)  # the request is being labelled (not a fixed sleep: CI is loaded)
            server.should_exit = True  # as SIGTERM does
            worker.join(timeout=30)
            assert result["answer"].status_code == 200
    finally:
        slow.loaded.predict = original


def test_a_merged_export_is_a_standard_model_with_the_runs_labels_and_thresholds(runs, tmp_path):
    from peftspec.inference.loaded import load_run

    run = runs["bert-lora"]
    out = tmp_path / "merged"
    proc = peftspec(tmp_path, "export", str(run), "-o", str(out), "--merge")
    assert proc.returncode == 0, proc.stderr
    script = f"""
import json, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
model = AutoModelForSequenceClassification.from_pretrained({str(out)!r}).eval()
tokenizer = AutoTokenizer.from_pretrained({str(out)!r})
config = model.config
texts = json.loads(sys.stdin.read())
with torch.inference_mode():
    scores = torch.sigmoid(model(**tokenizer(texts, padding=True, truncation=True, max_length=24,
                                             return_tensors="pt")).logits)
labels = [[config.id2label[j] for j in range(config.num_labels)
           if scores[i, j] >= config.decision_thresholds[config.id2label[j]]] for i in range(len(texts))]
top = pipeline("text-classification", model=model, tokenizer=tokenizer)(texts[0])
print(json.dumps({{"labels": labels, "problem_type": config.problem_type, "top": top[0]["label"],
                  "peftspec_imported": "peftspec" in sys.modules}}))
"""
    plain = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(TEXTS[:12]),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert plain.returncode == 0, plain.stderr[-2000:]
    got = json.loads(plain.stdout.splitlines()[-1])
    assert got["peftspec_imported"] is False
    assert got["problem_type"] == "multi_label_classification" and got["top"] in EMOTIONS
    assert got["labels"] == load_run(run).predict(TEXTS[:12]).labels()


@pytest.fixture(scope="module")
def pair_run(runs, tmp_path_factory) -> Path:
    """A LoRA run on text pairs (the text, and a question about it) over the tiny BERT."""
    root = tmp_path_factory.mktemp("serve-pairs")
    (root / "bert").symlink_to(runs["bert-lora"].parent.parent / "bert")
    for name, n, seed in (("train", 96, 1), ("validation", 32, 2)):
        rows = synthetic_rows(n, seed=seed)
        write_csv([{**r, "question": f"how does {r['id']} feel"} for r in rows], root / f"{name}.csv")
    adapters = {"bert-pairs": ADAPTERS["bert-lora"]}
    extra = 'max_length = 32\ntext_pair_column = "question"\n'
    return train_tiny_runs(root, adapters, extra=extra, epochs=1)["bert-pairs"]


def test_a_run_on_text_pairs_is_served_as_peftspec_predict_labels_it(runs, pair_run, tmp_path):
    """Each text goes with its `text_pairs` entry; an empty text or pair is flagged, not classified
    (as `peftspec predict` leaves such a row unlabelled); a request that does not fit the run's
    input is a 422 naming what to send."""
    rows = [{"text": t, "question": f"how does r{i} feel"} for i, t in enumerate(TEXTS[:8])]
    rows[3]["question"] = ""
    write_csv(rows, tmp_path / "pairs.csv")
    proc = peftspec(tmp_path, "predict", str(pair_run), "pairs.csv")
    assert proc.returncode == 0, proc.stderr
    assert "1 row(s) with empty text or text pair were not labelled" in proc.stderr
    expected = [json.loads(line) for line in proc.stdout.splitlines()]
    assert expected[3]["predicted"] is None

    with running(create_app(load_served([pair_run, runs["bert-lora"]]))) as (url, _):
        models = {m["name"]: m for m in httpx.get(f"{url}/v1/models").json()["models"]}
        assert models["bert-pairs"]["text_pairs"] is True and models["bert-lora"]["text_pairs"] is False
        body = {"texts": [r["text"] for r in rows], "text_pairs": [r["question"] for r in rows]}
        answer = httpx.post(f"{url}/v1/classify", json={**body, "model": "bert-pairs"}, timeout=60)
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert results[3] == {"labels": None, "scores": None, "flags": ["empty"]}
        for row, result in zip(expected, results):
            assert result["labels"] == row["predicted"]
            if row["predicted"] is not None:
                for label in EMOTIONS:
                    assert result["scores"][label] == pytest.approx(row[f"score_{label}"], abs=1e-5)
        # Hugging Face's shapes of a pair: [text, text_pair], or the pipeline's object
        kept = [i for i, row in enumerate(expected) if row["predicted"] is not None]
        as_lists = [[rows[i]["text"], rows[i]["question"]] for i in kept]
        as_objects = [{"text": a, "text_pair": b} for a, b in as_lists]
        for inputs in (as_lists, as_objects):
            ranked = httpx.post(f"{url}/predict/bert-pairs", json={"inputs": inputs}, timeout=60)
            assert ranked.status_code == 200, ranked.text
            for i, labels in zip(kept, ranked.json(), strict=True):
                scores = {e["label"]: e["score"] for e in labels}
                assert scores == pytest.approx(results[i]["scores"], abs=1e-6)
        alone = httpx.post(f"{url}/predict/bert-pairs", json={"inputs": [rows[0]["text"]]}, timeout=60)
        assert alone.json()["error"]["code"] == "text-pairs-required"
        # a run on single texts refuses pairs rather than dropping them unseen
        alone = httpx.post(f"{url}/v1/classify", json={**body, "model": "bert-lora"}, timeout=60)
        assert alone.json()["error"]["code"] == "unexpected-text-pairs"
        refused = {
            "text-pairs-required": {"texts": body["texts"], "model": "bert-pairs"},
            "text-pairs-mismatch": {**body, "text_pairs": body["text_pairs"][:2], "model": "bert-pairs"},
        }
        for code, request in refused.items():
            answer = httpx.post(f"{url}/v1/classify", json=request, timeout=60)
            assert (answer.status_code, answer.json()["error"]["code"]) == (422, code), answer.text
            assert "text_pairs" in answer.json()["error"]["message"]

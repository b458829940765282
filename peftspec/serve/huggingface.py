"""`POST /predict` and `POST /predict/{model}`: Hugging Face's text-classification request and
answer, so clients written for its endpoints work unchanged: `huggingface_hub`'s
`InferenceClient(model="http://host:8000/predict").text_classification(text)`, and the body of
Text Embeddings Inference's `/predict`.

The body is `{"inputs", "parameters": {"top_k", "function_to_apply"}, "truncate", "raw_scores"}`
(`peftspec.serve.schemas.PredictRequest`). The answer holds, for each input, every label with its
score, highest first (`top_k` keeps that many): `[[{"label": ..., "score": ...}, ...], ...]`, a
list per input even for one text, as the Inference API answers and its client reads. The scores
are the run's own (after its calibration temperature), and carry no decision: `/v1/classify`
applies the run's thresholds. An empty input is refused (422), since there is no list of scores
to give it.
"""

from __future__ import annotations

import numpy as np

from peftspec.metrics.scoring import scores_from_logits
from peftspec.serve.labelling import Answer, RequestError, choose, label
from peftspec.serve.loading import ServedRun
from peftspec.serve.schemas import LabelScore, PredictRequest

ROUTES = ("POST /predict", "POST /predict/{model}")


def add_routes(app, served: list[ServedRun], state: dict, options, metrics) -> None:
    """Register the two routes on `app` (`state["batcher"]` labels, as for `/v1/classify`)."""

    async def answer(run: ServedRun, body: PredictRequest) -> list[list[LabelScore]]:
        texts, pairs = body.texts_and_pairs()
        _check_pairs(run, pairs)
        empty = [
            i for i, t in enumerate(texts) if not t.strip() or (pairs is not None and not pairs[i].strip())
        ]
        if empty:
            raise RequestError(
                422,
                "empty-input",
                f"input(s) {', '.join(map(str, empty))} are empty, or their text_pair is: nothing to label",
                {"indices": empty},
            )
        done = await label(state["batcher"], metrics, run, texts, pairs, body.truncate, options.max_texts)
        return ranked(run, done, body.function, body.parameters.top_k)

    responses = {400: {}, 404: {}, 413: {}, 422: {}, 503: {}}

    @app.post("/predict", response_model=list[list[LabelScore]], responses=responses)
    async def predict(body: PredictRequest) -> list[list[LabelScore]]:
        """Every label's score for each input (Hugging Face's text-classification shape); one run served."""
        return await answer(choose(served, None, "post to /predict/{model}"), body)

    @app.post("/predict/{model}", response_model=list[list[LabelScore]], responses=responses)
    async def predict_with(model: str, body: PredictRequest) -> list[list[LabelScore]]:
        """Every label's score for each input with the run `model` (its name or id)."""
        return await answer(choose(served, model), body)


def ranked(run: ServedRun, done: Answer, function: str | None, top_k: int | None) -> list[list[LabelScore]]:
    """Each input's labels by score, highest first, `top_k` of them; `function` turns the run's
    logits into scores (None: the run's own scores)."""
    labelled = done.labelled
    if function is None:
        scores = labelled.scores
    elif function == "none":
        scores = labelled.logits
    else:
        scores = scores_from_logits(
            labelled.logits, "multi_label" if function == "sigmoid" else "multi_class"
        )
    names = run.loaded.label_names
    out = []
    for row in np.asarray(scores, dtype=np.float64):
        order = np.argsort(-row, kind="stable")[:top_k]
        out.append([LabelScore(label=names[j], score=float(row[j])) for j in order])
    return out


def _check_pairs(run: ServedRun, pairs: list[str] | None) -> None:
    if run.pairs and pairs is None:
        raise RequestError(
            422,
            "text-pairs-required",
            f"{run.name} classifies text pairs: send each input as [text, text_pair] "
            'or {"text": ..., "text_pair": ...}',
        )
    if not run.pairs and pairs is not None:
        raise RequestError(
            422, "unexpected-text-pairs", f"{run.name} classifies single texts: send texts alone"
        )

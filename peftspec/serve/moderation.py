"""`POST /v1/moderations`: OpenAI's moderation request and answer, so a run that flags content (a
multi-label run: toxic, insult, threat, ...; or a binary one: spam) stands in for OpenAI's
moderation endpoint, its clients unchanged: `OpenAI(base_url="http://host:8000/v1",
api_key=KEY).moderations.create(input=texts, model=RUN)`.

Each label is a category. `categories` says whether the run decides it, at the run's own
thresholds (as `/v1/classify` does), `category_scores` its score (after the run's calibration),
`category_applied_input_types` that text was read; `flagged` is whether any category is decided.
A binary run has one category, its positive class. A multi-class run picks one class for every
text, whatever it says, which flags nothing: it is refused, with `/v1/classify` named instead.
Images, an empty text (nothing to score) and a run on text pairs are refused (422).
"""

from __future__ import annotations

import uuid

import numpy as np

from peftspec.inference.loaded import Labelled
from peftspec.serve.labelling import RequestError, choose, label
from peftspec.serve.loading import ServedRun
from peftspec.serve.schemas import Moderation, ModerationRequest, ModerationResponse

ROUTES = ("POST /v1/moderations",)


def add_routes(app, served: list[ServedRun], state: dict, options, metrics) -> None:
    """Register the route on `app` (`state["batcher"]` labels, as for `/v1/classify`)."""

    @app.post(
        "/v1/moderations", response_model=ModerationResponse, responses={404: {}, 413: {}, 422: {}, 503: {}}
    )
    async def moderations(body: ModerationRequest) -> ModerationResponse:
        """Whether each input is flagged, by category (OpenAI's moderation shape); each label of a
        multi-label run is a category, the positive class of a binary one."""
        run = choose(served, body.model)
        texts = body.texts()
        _check(run, texts)
        done = await label(state["batcher"], metrics, run, texts, None, True, options.max_texts)
        return ModerationResponse(
            id=f"modr-{uuid.uuid4().hex}",
            model=run.name,
            results=moderated(run.loaded.task, run.loaded.label_names, done.labelled),
        )


def moderated(task: str, names: list[str], labelled: Labelled) -> list[Moderation]:
    """Each row of `labelled` as a moderation: its categories (every label of a multi-label task,
    the positive class of a binary one), decided and scored as the run decides and scores them."""
    if task == "multi_label":
        decided, scores, categories = np.asarray(labelled.predicted), labelled.scores, names
    else:  # binary: the second class is the positive one
        decided = (np.asarray(labelled.predicted) == 1)[:, None]
        scores, categories = labelled.scores[:, 1:2], names[1:2]
    return [
        Moderation(
            flagged=bool(flags.any()),
            categories={name: bool(flag) for name, flag in zip(categories, flags)},
            category_scores={name: float(score) for name, score in zip(categories, row)},
            category_applied_input_types={name: ["text"] for name in categories},
        )
        for flags, row in zip(decided, np.asarray(scores, dtype=np.float64))
    ]


def _check(run: ServedRun, texts: list[str]) -> None:
    """Refuse what a moderation cannot be given for: a multi-class run, a run on text pairs, empty texts."""
    if run.loaded.task == "multi_class":
        raise RequestError(
            422,
            "not-a-moderation-model",
            f"{run.name} picks one of {len(run.loaded.label_names)} classes for every text, which flags "
            "nothing: a moderation needs a multi-label or binary run; POST /v1/classify labels with it",
        )
    if run.pairs:
        raise RequestError(
            422,
            "text-pairs-required",
            f"{run.name} classifies text pairs, which a moderation cannot send: POST /v1/classify with "
            "`text_pairs`",
        )
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    if empty:
        raise RequestError(
            422,
            "empty-input",
            f"input(s) {', '.join(map(str, empty))} are empty: nothing to moderate",
            {"indices": empty},
        )

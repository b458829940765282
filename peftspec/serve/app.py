"""The ASGI app: `POST /v1/classify`, `GET /v1/models`, `GET /healthz`, `GET /metrics`, `/docs`,
Hugging Face's text-classification shape at `POST /predict` (`peftspec.serve.huggingface`) and
OpenAI's moderation shape at `POST /v1/moderations` (`peftspec.serve.moderation`).

Importing this module needs the `serve` extra (FastAPI); `peftspec.serve` imports it only to serve.
Every mistake in a request is a JSON error `{"error": {"code", "message", "details"}}` with a 4xx
status, never a crash or a hang: not JSON or the wrong shape (400/422), too many texts or too
large a body (413), an unknown model (404, naming those served), a full queue (503, Retry-After).
"""

from __future__ import annotations

import hmac
import re
import time
from contextlib import asynccontextmanager
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from peftspec.serve import huggingface, moderation
from peftspec.serve.batcher import Batcher
from peftspec.serve.labelling import RequestError, choose, label
from peftspec.serve.loading import ServedRun
from peftspec.serve.metrics import ServerMetrics
from peftspec.serve.options import ServeOptions
from peftspec.serve.schemas import (
    Classification,
    ClassifyRequest,
    ClassifyResponse,
    ModerationRequest,
    PredictRequest,
)

OPEN_ROUTES = {"/healthz"}
ROUTES = (
    "POST /v1/classify",
    "GET /v1/models",
    "GET /healthz",
    "GET /metrics",
    "GET /docs",
    *huggingface.ROUTES,
    *moderation.ROUTES,
)
BODIES = {"/predict": PredictRequest, "/v1/moderations": ModerationRequest}
"""The request body of each route other than `/v1/classify`'s, by the start of its path."""


def create_app(served: list[ServedRun], options: ServeOptions | None = None):
    """A FastAPI app serving `served` (see `peftspec.serve.loading.load_served`)."""

    options = options or ServeOptions()
    metrics = ServerMetrics()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app):
        state["batcher"] = Batcher(options, metrics)
        state["batcher"].start()
        yield
        await state["batcher"].close()  # finish what is queued, refuse the rest

    app = FastAPI(
        title="peftspec serve",
        description="Text classification with peftspec runs: each run's labels, thresholds and tokenizer.",
        lifespan=lifespan,
    )
    app.state.served, app.state.metrics, app.state.options = served, metrics, options

    def error(status: int, code: str, message: str, details=None, headers=None) -> JSONResponse:
        body = {"error": {"code": code, "message": message, "details": details}}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        started = time.perf_counter()
        route = request.url.path
        if options.api_key and route not in OPEN_ROUTES and not _authorised(request, options.api_key):
            response = error(401, "unauthorised", "send the API key as `Authorization: Bearer <key>`")
        elif _too_large(request, options.max_body_bytes) or (
            request.method == "POST"
            and "content-length" not in request.headers
            and len(await request.body()) > options.max_body_bytes
        ):
            response = error(
                413, "body-too-large", f"request bodies are limited to {options.max_body_bytes:,} bytes"
            )
        else:
            response = await call_next(request)
        metrics.requests.labels(route=route, status=str(response.status_code)).inc()
        metrics.latency.labels(route=route).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError):
        return error(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """A route that is not there, or not for this method: the same JSON error, naming the routes."""
        routes = sorted(ROUTES)
        asked = f"{request.method} {request.url.path}"
        if exc.status_code == 404:
            message = f"no route {asked}; the routes are {', '.join(routes)}"
            return error(404, "not-found", message, {"routes": routes})
        if exc.status_code == 405:
            allowed = [r for r in routes if _matches(r.split(" ", 1)[1], request.url.path)]
            message = f"{asked} is not served; use {' or '.join(allowed)}"
            return error(405, "method-not-allowed", message, {"routes": allowed}, exc.headers)
        return error(exc.status_code, "http-error", str(exc.detail), None, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        path = request.url.path
        body_model = next((m for start, m in BODIES.items() if path.startswith(start)), ClassifyRequest)
        problems = [_problem(e, body_model) for e in exc.errors()]
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind and not kind.endswith("json"):  # curl -d sends a form unless told otherwise
            return error(
                415,
                "not-json",
                f"the body is sent as {kind}: send JSON with `Content-Type: application/json`",
            )
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return error(400, "not-json", "the request body is not valid JSON", {"problems": problems})
        return error(422, "invalid-request", "; ".join(problems), {"problems": problems})

    @app.get("/healthz")
    async def healthz() -> dict:
        ready = "batcher" in state and state["batcher"].accepting
        return {"status": "ok" if ready else "stopping", "models": len(served)}

    @app.get("/v1/models")
    async def models() -> dict:
        """The runs served (`models`), and as OpenAI's model list (`object`, `data`) for its clients."""
        return {
            "models": [s.describe() for s in served],
            "object": "list",
            "data": [s.listed() for s in served],
        }

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/v1/classify", response_model=ClassifyResponse, responses={400: {}, 404: {}, 413: {}, 503: {}})
    async def classify(body: ClassifyRequest) -> ClassifyResponse:
        run = choose(served, body.model)
        pairs = _pairs(run, body)
        done = await label(
            state["batcher"], metrics, run, body.texts, pairs, body.truncate, options.max_texts
        )
        results = [Classification(labels=None, scores=None, flags=["empty"]) for _ in body.texts]
        if done.labelled is not None:
            names = done.labelled.labels()
            for k, i in enumerate(done.kept):
                chosen = names[k] if isinstance(names[k], list) else [names[k]]
                scores = dict(zip(run.loaded.label_names, map(float, done.labelled.scores[k])))
                results[i] = Classification(
                    labels=chosen, scores=scores, flags=["truncated"] if i in done.long else []
                )
        return ClassifyResponse(model=run.name, run_id=run.run_id, results=results)

    huggingface.add_routes(app, served, state, options, metrics)
    moderation.add_routes(app, served, state, options, metrics)
    return app


def _pairs(run: ServedRun, body: ClassifyRequest) -> list[str] | None:
    """The request's `text_pairs`, which a run on text pairs needs (one per text) and any other refuses."""
    if not run.pairs:
        if body.text_pairs is not None:
            raise RequestError(
                422, "unexpected-text-pairs", f"{run.name} classifies single texts: leave out `text_pairs`"
            )
        return None
    if body.text_pairs is None:
        raise RequestError(
            422, "text-pairs-required", f"{run.name} classifies text pairs: send `text_pairs`, one per text"
        )
    if len(body.text_pairs) != len(body.texts):
        raise RequestError(
            422,
            "text-pairs-mismatch",
            f"{len(body.texts)} texts but {len(body.text_pairs)} text_pairs: send one pair per text",
        )
    return body.text_pairs


def _authorised(request, key: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


def _too_large(request, limit: int) -> bool:
    length = request.headers.get("content-length")
    return length is not None and length.isdigit() and int(length) > limit


def _problem(error: dict, body_model: type[BaseModel]) -> str:
    """One validation problem of a request body, as its message and `details.problems` say it: an
    unknown field with the field it is closest to (`text` -> `texts`, `parameters.topk` ->
    `parameters.top_k`)."""
    loc = [str(p) for p in error.get("loc", ()) if p != "body"]
    where = ".".join(loc)
    if error.get("type") == "extra_forbidden":
        from peftspec.spec.diagnostics import did_you_mean

        fields = _fields_at(body_model, loc[:-1])
        near = did_you_mean(loc[-1], fields) if fields else None
        return f"{where}: unknown field" + (
            f"; did you mean {near!r}?" if near else f"; the fields are {', '.join(fields)}" if fields else ""
        )
    message = error.get("msg", "invalid").removeprefix("Value error, ")
    return message if where and message.startswith(where) else f"{where or 'body'}: {message}"


def _fields_at(model: type[BaseModel], path: list[str]) -> list[str]:
    """The fields of the object at `path` in a request body of `model` ([] when not an object)."""
    for key in path:
        field = model.model_fields.get(key)
        inner = (*get_args(field.annotation), field.annotation) if field is not None else ()
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _matches(template: str, path: str) -> bool:
    """Whether `path` is a route's `template` (`/predict/{model}`) with its parameters filled in."""
    pattern = re.sub(r"\{[^/]+\}", "[^/]+", template)  # the templates hold no other regex syntax
    return re.fullmatch(pattern, path) is not None

"""What every classifying route shares: the run a request names, the checks of its texts, and the
labelling itself through the batcher. A request's mistake is a `RequestError`, which the app
answers as a JSON error `{"error": {"code", "message", "details"}}` with its status."""

from __future__ import annotations

from dataclasses import dataclass

from peftspec.inference.loaded import Labelled, labelled_rows
from peftspec.serve.batcher import Batcher, Overloaded
from peftspec.serve.loading import ServedRun


class RequestError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None, headers=None):
        self.status, self.code, self.message, self.details, self.headers = (
            status,
            code,
            message,
            details,
            headers,
        )
        super().__init__(message)


def choose(served: list[ServedRun], name: str | None, how: str = "name one in `model`") -> ServedRun:
    """The served run called `name` (a run name or id); None when only one run is served."""
    if name is None:
        if len(served) == 1:
            return served[0]
        raise RequestError(
            422, "model-required", f"several runs are served: {how}", {"models": served_ids(served)}
        )
    matches = [s for s in served if name in (s.run_id, s.name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise RequestError(
            422,
            "ambiguous-model",
            f"{name!r} names several runs; use a run id",
            {"models": served_ids(served)},
        )
    raise RequestError(
        404, "unknown-model", f"no run named {name!r} is served", {"models": served_ids(served)}
    )


def served_ids(served: list[ServedRun]) -> list[str]:
    return [s.run_id for s in served]


@dataclass
class Answer:
    """A request's texts as labelled: `labelled` holds the rows `kept`, in order (None when none
    was); the other texts, or their pairs, were empty and are not classified."""

    labelled: Labelled | None
    kept: list[int]
    long: list[int]
    """The texts longer than the run's max_length, which were truncated."""


async def label(
    batcher: Batcher,
    metrics,
    run: ServedRun,
    texts: list[str],
    pairs: list[str] | None,
    truncate: bool,
    max_texts: int,
) -> Answer:
    """Label `texts` (with `pairs` for a run on text pairs) with `run`, through the batcher: too
    many texts (413), a text too long with `truncate` off (422) or a full queue (503) is refused."""
    if len(texts) > max_texts:
        raise RequestError(413, "too-many-texts", f"at most {max_texts} texts per request")
    lengths = token_lengths(run, texts, pairs)
    long = [i for i, n in enumerate(lengths) if n > run.max_length]
    if long and not truncate:
        raise RequestError(
            422,
            "text-too-long",
            f"{len(long)} text(s) are longer than the run's max_length ({run.max_length} tokens)",
            {"indices": long},
        )
    kept = labelled_rows(texts, pairs)
    if not kept:
        return Answer(None, kept, long)
    tokens = sum(min(lengths[i], run.max_length) for i in kept)
    try:
        labelled = await batcher.submit(
            run, [texts[i] for i in kept], tokens, [pairs[i] for i in kept] if pairs else None
        )
    except Overloaded as exc:
        raise RequestError(503, "overloaded", str(exc), headers={"Retry-After": "1"}) from None
    metrics.rows.labels(model=run.run_id).inc(len(kept))
    return Answer(labelled, kept, long)


def token_lengths(run: ServedRun, texts: list[str], pairs: list[str] | None = None) -> list[int]:
    tokenizer = run.loaded.tokenizer
    encoded = tokenizer(texts, pairs, add_special_tokens=True, truncation=False)
    return [len(ids) for ids in encoded["input_ids"]]

"""The HTTP API's request and response bodies (they make the OpenAPI page at /docs)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)

    texts: list[str] = Field(min_length=1)
    """The texts to classify (at least one)."""
    text_pairs: list[str] | None = None
    """The second text of each pair, one per text, for a run trained on text pairs (NLI, paraphrase);
    left out for any other run."""
    model: str | None = None
    """A served run, by name or id; may be left out when one run is served."""
    truncate: bool = True
    """Texts longer than the run's `max_length` tokens are truncated and flagged; false: refused (422)."""


class Classification(BaseModel):
    labels: list[str] | None
    """The predicted labels after the run's thresholds (one for single-label runs); null when empty."""
    scores: dict[str, float] | None
    """Every label's score (sigmoid per label, or softmax over classes); null when empty."""
    flags: list[str] = Field(default_factory=list)
    """`empty` (the text, or its pair, is empty: not classified), `truncated` (longer than the run's
    max_length)."""


class ClassifyResponse(BaseModel):
    model: str
    """The run's name."""
    run_id: str
    """The run directory's name."""
    results: list[Classification]
    """One per text, in order."""


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody

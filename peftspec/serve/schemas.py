"""The HTTP API's request and response bodies (they make the OpenAPI page at /docs)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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


class TextPair(BaseModel):
    """One input as the transformers pipeline takes it: `{"text": ..., "text_pair": ...}`."""

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)

    text: str
    """The text (the spec's `text_column`)."""
    text_pair: str | None = None
    """Its second text, for a run trained on text pairs."""


class PredictParameters(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)

    top_k: int | None = Field(default=None, ge=1)
    """Keep the k labels of highest score; unset = every label."""
    function_to_apply: Literal["sigmoid", "softmax", "none"] | None = None
    """What turns the logits into scores: unset = the run's own (sigmoid per label for a
    multi-label run, softmax over classes otherwise); `none` = the logits themselves."""


class PredictRequest(BaseModel):
    """The body of Hugging Face's text-classification endpoints (the Inference API, Text
    Embeddings Inference's `/predict`)."""

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)

    inputs: str | list[str] | list[list[str]] | TextPair | list[TextPair]
    """A text, a list of texts, text pairs as `[[text, text_pair], ...]`, or the pipeline's
    `{"text", "text_pair"}` (alone or in a list)."""
    parameters: PredictParameters = Field(default_factory=PredictParameters)
    """`top_k` and `function_to_apply`, as the pipeline takes them."""
    truncate: bool = True
    """Inputs longer than the run's `max_length` tokens are cut as in training; false: refused (422)."""
    raw_scores: bool = False
    """The logits instead of scores (Text Embeddings Inference's name for `function_to_apply = "none"`)."""

    @field_validator("inputs", mode="before")
    @classmethod
    def _one_shape(cls, value):
        """A clear message for an input of no known shape, rather than one per member of the union."""
        inputs = each_input(value, "inputs")
        for where, item in inputs:
            if isinstance(item, list) and (len(item) != 2 or not all(isinstance(t, str) for t in item)):
                raise ValueError(f"{where}: a text pair is [text, text_pair], two strings")
            if isinstance(item, dict):
                _check_pair_object(item, where)
            elif not isinstance(item, str | list):
                raise ValueError(f"{where}: a text, a [text, text_pair] or a {{text, text_pair}}")
        if len({type(item) for _, item in inputs}) > 1:
            raise ValueError("inputs mix shapes: send texts, [text, text_pair] lists or objects, not several")
        return value

    def texts_and_pairs(self) -> tuple[list[str], list[str] | None]:
        """The first texts, and the second ones (None when the inputs are single texts)."""
        items = self.inputs if isinstance(self.inputs, list) else [self.inputs]
        if all(isinstance(item, str) for item in items):
            return list(items), None
        if all(isinstance(item, list) for item in items):
            return [a for a, _ in items], [b for _, b in items]
        if all(item.text_pair is None for item in items):
            return [item.text for item in items], None
        return [item.text for item in items], [item.text_pair or "" for item in items]

    @property
    def function(self) -> str | None:
        return "none" if self.raw_scores else self.parameters.function_to_apply


def each_input(value, key: str) -> list[tuple[str, object]]:
    """(where, input) for each input of a request's `key` (a list of them, or one), as messages
    name it (`inputs[2]`, or `inputs` alone); an empty list is refused."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("send at least one input")
    return [(f"{key}[{i}]" if isinstance(value, list) else key, item) for i, item in enumerate(items)]


def _check_pair_object(item: dict, where: str) -> None:
    from peftspec.spec.diagnostics import did_you_mean

    fields = list(TextPair.model_fields)
    for key in item:
        if key not in fields:
            near = did_you_mean(key, fields)
            hint = f"did you mean {near!r}?" if near else f"the keys are {', '.join(fields)}"
            raise ValueError(f"{where}: unknown key {key!r}; {hint}")
    if not isinstance(item.get("text"), str):
        raise ValueError(f"{where}: `text` must be a string")
    if not isinstance(item.get("text_pair", ""), str | None):
        raise ValueError(f"{where}: `text_pair` must be a string")


class LabelScore(BaseModel):
    label: str
    score: float


class ModerationText(BaseModel):
    """One input as OpenAI's multi-modal moderation takes it: `{"type": "text", "text": ...}`."""

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)

    type: Literal["text"]
    """`text`; images (`image_url`) are not moderated here."""
    text: str
    """The text."""


class ModerationRequest(BaseModel):
    """The body of OpenAI's `POST /v1/moderations`."""

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)

    input: str | list[str] | list[ModerationText]
    """A text, a list of texts, or a list of `{"type": "text", "text": ...}` objects."""
    model: str | None = None
    """A served run, by name or id; may be left out when one run is served."""

    @field_validator("input", mode="before")
    @classmethod
    def _texts_only(cls, value):
        """An image, or an input of no known shape, said once rather than per member of the union."""
        for where, item in each_input(value, "input"):
            if isinstance(item, dict) and item.get("type") == "image_url":
                raise ValueError(f"{where}: images are not moderated here, only text")
            if not isinstance(item, str | dict):
                raise ValueError(f'{where}: a text or {{"type": "text", "text": ...}}')
        return value

    def texts(self) -> list[str]:
        items = self.input if isinstance(self.input, list) else [self.input]
        return [item if isinstance(item, str) else item.text for item in items]


class Moderation(BaseModel):
    flagged: bool
    """Whether any category is decided, at the run's thresholds."""
    categories: dict[str, bool]
    """Each category (label) decided or not, at the run's thresholds."""
    category_scores: dict[str, float]
    """Each category's score (after the run's calibration)."""
    category_applied_input_types: dict[str, list[str]]
    """What each category was read from: `["text"]`."""


class ModerationResponse(BaseModel):
    id: str
    """`modr-` and a random id, new for each request."""
    model: str
    """The run's name."""
    results: list[Moderation]
    """One per input, in order."""

"""How a server batches and what it accepts; every limit has a default and a command-line flag."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeOptions:
    max_texts: int = 256
    """Texts per request; more is answered 413."""
    max_body_bytes: int = 2**20
    """Request body size; larger is answered 413."""
    max_batch_rows: int = 64
    """Rows in one forward pass; requests that arrive together are joined up to this many."""
    max_batch_tokens: int = 16_384
    """Tokens (rows x their padded length) in one forward pass."""
    max_wait_ms: float = 5.0
    """How long the first request of a batch waits for others to join it."""
    queue_size: int = 64
    """Requests waiting to be batched; when full, new ones are answered 503 with Retry-After."""
    api_key: str | None = None
    """When set, every route but /healthz needs `Authorization: Bearer <key>`."""

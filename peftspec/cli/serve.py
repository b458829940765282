"""`peftspec serve RUN [RUN ...]`: trained runs behind an HTTP API (the `serve` extra)."""

from __future__ import annotations

import argparse
import os

from peftspec.cli.common import add_one_run, one_run
from peftspec.errors import UsageError, missing_extra

HELP = (
    "serve trained runs over HTTP (POST /v1/classify; /predict for Hugging Face clients, /v1/moderations "
    "for OpenAI's), batched; runs on one backbone share it"
)
KEY_ENV = "PEFTSPEC_API_KEY"


def add_parser(sub) -> None:
    from peftspec.serve.options import ServeOptions

    d = ServeOptions()
    p = sub.add_parser("serve", help=HELP)
    add_one_run(p, several=True)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1 only)")
    p.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: 8000; 0: any free one)"
    )
    p.add_argument("--api-key", help=f"require `Authorization: Bearer KEY` (default: ${KEY_ENV}, if set)")
    p.add_argument("--max-texts", type=int, default=d.max_texts, help="texts per request (more: 413)")
    p.add_argument("--max-batch-rows", type=int, default=d.max_batch_rows, help="rows per forward pass")
    p.add_argument("--max-batch-tokens", type=int, default=d.max_batch_tokens, help="tokens per forward pass")
    p.add_argument("--max-wait-ms", type=float, default=d.max_wait_ms, help="how long a batch waits to fill")
    p.add_argument("--queue-size", type=int, default=d.queue_size, help="waiting requests (more: 503)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        from peftspec.serve import ServeOptions, serve
    except ImportError as exc:
        raise missing_extra(exc, "serve") from None
    options = ServeOptions(
        max_texts=args.max_texts,
        max_batch_rows=args.max_batch_rows,
        max_batch_tokens=args.max_batch_tokens,
        max_wait_ms=args.max_wait_ms,
        queue_size=args.queue_size,
        api_key=args.api_key or os.environ.get(KEY_ENV) or None,
    )
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise missing_extra(exc, "serve") from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port (0-65535)", hint="--port 0 takes any free one")
    runs = [one_run(run, args.root) for run in args.runs]
    _check_free(args.host, args.port)  # before the models load, not after
    serve(runs, args.host, args.port, options)
    return 0


def _check_free(host: str, port: int) -> None:
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port} ({os.strerror(exc.errno) if exc.errno else exc})",
            hint="choose another with --port (--port 0 takes any free one), or another --host",
        ) from None

"""`peftspec serve`: trained runs behind an HTTP API (FastAPI on uvicorn; the `serve` extra).

`load_served(paths)` loads each run once (runs on one backbone share its weights), `create_app`
makes the ASGI app, `serve` runs it on uvicorn until SIGINT/SIGTERM (requests in flight finish).
"""

from __future__ import annotations

from peftspec.serve.options import ServeOptions


def serve(paths: list[str], host: str = "127.0.0.1", port: int = 8000, options: ServeOptions | None = None):
    """Load the runs and serve them until stopped."""
    import uvicorn

    from peftspec.serve.app import create_app
    from peftspec.serve.loading import load_served

    app = create_app(load_served(paths), options)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=30)


__all__ = ["ServeOptions", "serve"]

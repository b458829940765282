"""A real uvicorn server in a thread, on 127.0.0.1 at a free port, for tests and benchmarks."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager


@contextmanager
def running(app, timeout: float = 30.0):
    """Serve `app`; yields (base URL, the uvicorn server). Stops (gracefully) on exit."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)

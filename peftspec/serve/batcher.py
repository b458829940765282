"""Requests that arrive within a few milliseconds are joined into one forward pass.

Requests wait in a bounded queue (full: the caller answers 503 with Retry-After, so a burst never
exhausts memory). One worker takes the oldest request, waits up to `max_wait_ms` for more for the
same run, joins them up to the row and token budgets, and labels the batch in a single inference
thread (torch calls stay serial; the event loop keeps accepting). Each request gets its own rows
back. `close()` refuses new requests and finishes the ones already queued.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from peftspec.serve.options import ServeOptions


class Overloaded(Exception):
    """The queue is full, or the server is shutting down."""


@dataclass
class Job:
    served: object
    """The `ServedRun` to label with."""
    texts: list[str]
    tokens: int
    future: asyncio.Future
    pairs: list[str] | None = None
    """The second text of each pair, for a run on text pairs."""
    queued_at: float = field(default_factory=time.perf_counter)


class Batcher:
    def __init__(self, options: ServeOptions, metrics):
        self.options, self.metrics = options, metrics
        self.queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=options.queue_size)
        self.accepting = True
        self._held: list[Job] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peftspec-infer")
        self._worker: asyncio.Task | None = None

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def submit(self, served, texts: list[str], tokens: int, pairs: list[str] | None = None):
        """The `Labelled` result of `texts` (with `pairs`, for a run on text pairs); raises
        `Overloaded` when the queue is full or closed."""
        if not self.accepting:
            raise Overloaded("the server is shutting down")
        future = asyncio.get_running_loop().create_future()
        try:
            self.queue.put_nowait(Job(served, texts, tokens, future, pairs))
        except asyncio.QueueFull:
            raise Overloaded(f"{self.options.queue_size} requests are already waiting") from None
        self.metrics.queue_depth.set(self.queue.qsize())
        return await future

    async def close(self) -> None:
        """Refuse new requests, finish the queued ones, stop."""
        self.accepting = False
        while (self.queue.qsize() or self._held) and self._worker and not self._worker.done():
            await asyncio.sleep(0.01)
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=True)

    async def _next(self, timeout: float | None) -> Job | None:
        if self._held:
            return self._held.pop(0)
        try:
            if timeout is None:
                return await self.queue.get()
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._next(None)
            batch, rows, tokens = [first], len(first.texts), first.tokens
            deadline = loop.time() + self.options.max_wait_ms / 1000
            deferred: list[Job] = []
            while rows < self.options.max_batch_rows:
                job = await self._next(max(0.0, deadline - loop.time()))
                if job is None:
                    break
                fits = (
                    rows + len(job.texts) <= self.options.max_batch_rows
                    and tokens + job.tokens <= self.options.max_batch_tokens
                )
                if job.served is first.served and fits:
                    batch.append(job)
                    rows, tokens = rows + len(job.texts), tokens + job.tokens
                else:
                    deferred.append(job)
                    if not fits:
                        break
            self._held = deferred + self._held
            self.metrics.queue_depth.set(self.queue.qsize() + len(self._held))
            await self._label(batch, loop)

    async def _label(self, batch: list[Job], loop) -> None:
        texts = [t for job in batch for t in job.texts]
        # one run per batch, so every job has pairs or none has
        pairs = [p for job in batch for p in job.pairs] if batch[0].pairs is not None else None
        self.metrics.batch_rows.observe(len(texts))
        try:
            result = await loop.run_in_executor(self._executor, batch[0].served.loaded.predict, texts, pairs)
        except Exception as exc:  # answered as a 500 by each request; the worker goes on
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        start = 0
        for job in batch:
            end = start + len(job.texts)
            if not job.future.done():
                job.future.set_result(result.rows(start, end))
            start = end

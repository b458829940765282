"""`GET /metrics`: Prometheus counters and histograms of one server (its own registry)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServerMetrics:
    registry: object = field(default=None)

    def __post_init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "peftspec_requests",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.rows = Counter("peftspec_rows", "Texts classified, by run", ["model"], registry=self.registry)
        self.batch_rows = Histogram(
            "peftspec_batch_rows",
            "Rows per forward pass",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.latency = Histogram(
            "peftspec_request_seconds",
            "Time from a request's arrival to its answer",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "peftspec_queue_depth", "Requests waiting to be batched", registry=self.registry
        )

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

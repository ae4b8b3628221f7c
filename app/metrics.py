"""The API process's Prometheus instruments (no module-level state); the agents' are merged in."""

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)

from app.version import VERSION

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The API process's registry: its own instruments, and whatever collectors it is given."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The process's CPU, memory and file descriptors, and the Python it runs on.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        Info("distgate_build", "The running release", registry=self.registry).info(
            {"version": VERSION}
        )
        self.http_requests = Counter(
            "distgate_http_requests",
            "HTTP requests served, by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "distgate_http_request_seconds",
            "HTTP request latency, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http_waiting = Gauge(
            "distgate_http_waiting",
            "Requests held now, by kind (long_poll, sync); each kind is capped per API process",
            ["kind"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "distgate_ready",
            "1 when every assigned partition is restored and consuming",
            registry=self.registry,
        )

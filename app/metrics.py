"""Prometheus instruments, held by one Metrics object per process (no module-level state)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The process's registry and every instrument distgate updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
        self.events_applied = Counter(
            "distgate_events_applied",
            "Input messages applied to a table, by table and outcome",
            ["table", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "distgate_dead_letters",
            "Messages dead-lettered, by source and reason",
            ["source", "reason"],
            registry=self.registry,
        )
        self.bridge_messages = Counter(
            "distgate_bridge_messages",
            "WMS messages the bridge settled, by outcome (forwarded, dead_letter)",
            ["outcome"],
            registry=self.registry,
        )
        self.bridge_interruptions = Counter(
            "distgate_bridge_interruptions",
            "Times the WMS bridge lost Kafka or RabbitMQ and resumed",
            registry=self.registry,
        )
        self.wms_commands_sent = Counter(
            "distgate_wms_commands_sent",
            "Release and Cancel commands RabbitMQ confirmed, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.wms_commands_retried = Counter(
            "distgate_wms_commands_retried",
            "Command publications retried, by reason (unroutable, nacked, connection)",
            ["reason"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "distgate_ready",
            "1 when every assigned partition is restored and consuming",
            registry=self.registry,
        )

"""End-to-end flow latencies and their objectives: the histograms, the breach counters, the SLAs.

A flow runs from a moment one message carries (a Kafka record's timestamp, an order's
history) to the moment an actor finished what it asked for; the actors observe each
end (`agents.flow_timing`). Each flow has a service level objective, in seconds: an
observation above it is a breach, counted on its own so an alert needs no quantile.
"""

import enum
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Flow(enum.StrEnum):
    """The flows an operator follows, as the `flow` label names them."""

    WMS_TO_ATP = "wms_to_atp"  # a WMS stock fact received, to applied in the stock table
    ORDER_TO_RESERVED = "order_to_reserved"  # an order taken, to every line answered
    ORDER_TO_RELEASED = "order_to_released"  # the decision applied, to its Release confirmed
    ERP_DECISION_WAIT = "erp_decision_wait"  # an order reserved, to ERP's decision applied
    RELEASE_TO_SHIP = "release_to_ship"  # a Release sent, to the shipment applied


DEFAULT_SLAS: Mapping[Flow, float] = {
    Flow.WMS_TO_ATP: 1.0,
    Flow.ORDER_TO_RESERVED: 1.0,
    Flow.ORDER_TO_RELEASED: 2.0,
    Flow.ERP_DECISION_WAIT: 30.0,
    Flow.RELEASE_TO_SHIP: 60.0,
}
# Up to a minute; every default objective is a bound, so a breach shows in the buckets too.
MAX_SLA_SECONDS = 30 * 86_400.0
FLOW_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def parse_slas(spec: str) -> dict[Flow, float]:
    """`flow=seconds,...` over the defaults; raise ValueError naming what is wrong."""
    slas = dict(DEFAULT_SLAS)
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        name, equals, seconds = entry.partition("=")
        if not equals or name.strip() not in Flow.__members__.values():
            known = ", ".join(Flow)
            raise ValueError(f"DISTGATE_FLOW_SLAS entry {entry!r} is not flow=seconds ({known})")
        try:
            value = float(seconds)
        except ValueError:
            value = float("nan")
        if not 0 < value <= MAX_SLA_SECONDS:  # NaN fails it too
            raise ValueError(
                f"DISTGATE_FLOW_SLAS entry {entry!r}: seconds must be a number in "
                f"(0, {MAX_SLA_SECONDS:.0f}]"
            )
        slas[Flow(name.strip())] = value
    return slas


class FlowTimer:
    """The flow histograms and breach counters of one process, every flow's series present."""

    def __init__(self, registry: CollectorRegistry, slas: Mapping[Flow, float]) -> None:
        self.slas = dict(slas)
        self.latency = Histogram(
            "distgate_flow_latency_seconds",
            "End-to-end latency of a flow, from its first message to its effect, by flow",
            ["flow"],
            buckets=FLOW_BUCKETS,
            registry=registry,
        )
        self.breaches = Counter(
            "distgate_sla_breaches",
            "Flow observations above the flow's SLA (DISTGATE_FLOW_SLAS), by flow",
            ["flow"],
            registry=registry,
        )
        for flow in Flow:  # zero from the start: rate() and increase() see the first one
            self.latency.labels(flow)
            self.breaches.labels(flow)

    def observe(self, flow: Flow, seconds: float) -> None:
        """Record one flow's latency; clocks a little apart never make it negative."""
        seconds = max(0.0, seconds)
        self.latency.labels(flow).observe(seconds)
        if seconds > self.slas[flow]:
            self.breaches.labels(flow).inc()


def register_objectives(registry: CollectorRegistry, slas: Mapping[Flow, float]) -> None:
    """`distgate_flow_sla_seconds{flow}`: the objectives, for the console and the dashboard.

    Only one process of a worker exposes them: the agents' series are summed.
    """
    objective = Gauge(
        "distgate_flow_sla_seconds",
        "The SLA of each flow, in seconds (DISTGATE_FLOW_SLAS)",
        ["flow"],
        registry=registry,
    )
    for flow, seconds in slas.items():
        objective.labels(flow).set(seconds)

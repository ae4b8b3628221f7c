"""The instruments the actors update, on a registry the process hands them."""

from prometheus_client import CollectorRegistry, Counter, Gauge


class AgentMetrics:
    """Counters of what the agents, the bridge and the command publisher did."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
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
        self.consumer_lag = Gauge(
            "distgate_consumer_lag",
            "Records in a partition this process consumes that it has not fetched yet",
            ["topic", "partition"],
            registry=self.registry,
        )

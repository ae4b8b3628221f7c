"""The bridge process: WMS messages from RabbitMQ to Kafka, with an interpreter of its own.

In the agents process the bridge shared one interpreter lock with the agents and Faust's
consumer thread and forwarded about 1,200 messages/s; the supervisor runs it beside them.
"""

from mode import Worker
from prometheus_client import CollectorRegistry

from agents.runtime.metrics import AgentMetrics
from app.agents_status import bridge_status_path
from app.readiness import Progress, Readiness
from app.settings import Settings
from app.status_reporter import StatusReporter
from app.wms_wiring import wms_bridge


class BridgeWorker(Worker):
    """Runs the bridge and its status report."""

    def __init__(self, settings: Settings, readiness: Readiness) -> None:
        metrics = AgentMetrics(CollectorRegistry())
        path = bridge_status_path(settings.data_dir)
        reporter = StatusReporter(path, readiness, metrics.registry)
        super().__init__(
            wms_bridge(settings, metrics), reporter, **settings.worker_logging("bridge")
        )
        self.readiness = readiness

    async def on_started(self) -> None:
        """The bridge consumes (or keeps retrying its brokers): the report may say so."""
        self.readiness.mark_started()
        await super().on_started()


def build_bridge_worker(settings: Settings) -> BridgeWorker:
    """Assemble the bridge process; no I/O happens until it runs."""
    readiness = Readiness()
    readiness.add_source(lambda: [Progress("bridge", ready=True, detail="consuming")])
    return BridgeWorker(settings, readiness)

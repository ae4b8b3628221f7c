"""Wiring of the WMS side: the command publisher (agents process) and the bridge (its own)."""

import faust
from mode import ServiceT

from agents.deadletters import DeadLetters
from agents.runtime.failpoints import Failpoints
from agents.runtime.metrics import AgentMetrics
from agents.wms_bridge import WmsBridge
from agents.wms_commands import CommandPublisher, register_wms_command_agent
from app.settings import Settings


def register_wms(
    app: faust.App, settings: Settings, metrics: AgentMetrics, dead_letters: DeadLetters
) -> tuple[ServiceT, ...]:
    """Register the command agent; return the services to start beside the Faust app."""
    publisher = CommandPublisher(settings.amqp_url, metrics)
    register_wms_command_agent(app, settings.topics.wms_commands, publisher, dead_letters)
    return (publisher,)


def wms_bridge(settings: Settings, metrics: AgentMetrics) -> WmsBridge:
    """The inbound bridge, AMQP to Kafka, armed with the crash tests' failpoints if any."""
    return WmsBridge(
        settings.kafka.client_options(),
        settings.amqp_url,
        settings.wms_queues.events,
        settings.topics,
        metrics,
        Failpoints(settings.failpoints),
    )

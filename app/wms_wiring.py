"""Wiring of the WMS side: the command publisher and redeliverer (agents process), the bridge."""

import faust
from mode import ServiceT

from agents.deadletters import DeadLetters
from agents.runtime.failpoints import Failpoints
from agents.runtime.flows import FlowTimer
from agents.runtime.metrics import AgentMetrics
from agents.wms_bridge import WmsBridge
from agents.wms_commands import CommandPublisher, register_wms_command_agent
from agents.wms_redelivery import Redeliverer
from app.settings import Settings


def register_wms(
    app: faust.App,
    settings: Settings,
    metrics: AgentMetrics,
    dead_letters: DeadLetters,
    flows: FlowTimer,
) -> tuple[ServiceT, ...]:
    """Register the command agent; return the services to start beside the Faust app."""
    publisher = CommandPublisher(settings.amqp_url, settings.wms_queues, metrics)
    app.on_partitions_assigned.connect(publisher.forget_parking)
    register_wms_command_agent(app, settings.topics.wms_commands, publisher, dead_letters, flows)
    return publisher, Redeliverer(settings.amqp_url, settings.wms_queues, metrics, flows)


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

"""Wiring of the WMS side of a worker: the AMQP bridge both ways and the dead-letter admin."""

from dataclasses import dataclass

import faust
from mode import ServiceT

from agents.deadletters import DeadLetters
from agents.runtime.failpoints import Failpoints
from agents.wms_bridge import WmsBridge
from agents.wms_commands import CommandPublisher, register_wms_command_agent
from app.dlq import DeadLetterAdmin
from app.metrics import Metrics
from app.read.deadletter_index import DeadLetterMirror
from app.settings import Settings


@dataclass(frozen=True)
class WmsSide:
    """The services to start beside the Faust app, and what the admin API uses."""

    services: tuple[ServiceT, ...]
    dead_letters: DeadLetterAdmin


def register_wms(
    app: faust.App, settings: Settings, metrics: Metrics, dead_letters: DeadLetters
) -> WmsSide:
    """Register the command agent; build the inbound bridge and the dead-letter mirror."""
    publisher = CommandPublisher(settings.amqp_url, metrics)
    register_wms_command_agent(app, publisher, dead_letters)
    bridge = WmsBridge(
        settings.kafka_bootstrap, settings.amqp_url, metrics, Failpoints(settings.failpoints)
    )
    mirror = DeadLetterMirror(settings.kafka_bootstrap, settings.partitions)
    return WmsSide((publisher, bridge, mirror), DeadLetterAdmin(settings, mirror))

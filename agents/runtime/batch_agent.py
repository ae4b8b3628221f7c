"""Batch agents: actors that receive each partition's fetched records in one call."""

from typing import cast

import faust
from faust.types import TP, Message

from agents.runtime.durable_app import DurableApp
from agents.runtime.durable_consumer import BatchHandler
from agents.runtime.durable_producer import DurableProducer
from agents.runtime.output import raw_topic
from protocols.topics import TopicSpec


def register_batch_agent(app: faust.App, spec: TopicSpec, handler: BatchHandler) -> None:
    """Subscribe to `spec`'s topic; every fetch of a partition goes to `handler` at once.

    One batch at a time, as Faust's stateful agents run with concurrency 1: the consumer
    delivers the next batch only after the handler returned. What the handler buffered
    (`Output.add`, the tables' changelog records) is then sent at once, whatever the
    producer's linger.
    """
    durable = cast(DurableApp, app)

    async def handle(tp: TP, records: list[Message]) -> None:
        await handler(tp, records)
        durable.failpoints.hit("batch.before_send")
        durable.membership.stop_if_lapsed()
        await cast(DurableProducer, app.producer).send_buffer(durable.records)

    app.topics.add(raw_topic(app, spec))
    durable.batch_handlers[spec.name] = handle

"""The topics agents read and write, as raw bytes: our msgspec codecs (de)serialise."""

from typing import cast

import faust

from agents.runtime.durable_producer import DurableProducer
from protocols.topics import TopicSpec


def raw_topic(app: faust.App, spec: TopicSpec) -> faust.TopicT:
    """A Faust topic of raw bytes: our msgspec codecs (de)serialise, not Faust's."""
    return app.topic(spec.name, key_type=bytes, value_type=bytes, value_serializer="raw")


class Output:
    """A topic agents write to: straight to the producer, acknowledged before the commit."""

    def __init__(self, app: faust.App, spec: TopicSpec) -> None:
        self._app = app
        self.name = spec.name

    async def send(self, *, key: bytes, value: bytes) -> None:
        """Hand the record to the producer; the next commit waits for Kafka to have it."""
        await cast(DurableProducer, self._app.producer).send_now(self.name, key, value)

"""The Faust app distgate runs: aiokafka, with the producer and consumer that lose nothing.

`DurableProducer`: a commit waits until Kafka has every write made before it.
`DurableConsumer`: batch agents get whole fetches; a seek cannot skip an event.
"""

from typing import Any

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TransportT

from agents.runtime.durable_consumer import BatchHandler, DurableConsumer
from agents.runtime.durable_producer import DurableProducer
from agents.runtime.record_buffer import RecordBuffer


class DurableTransport(aiokafka_driver.Transport):
    """The aiokafka transport with both."""

    Consumer = DurableConsumer
    Producer = DurableProducer


class DurableApp(faust.App):
    """A Faust app on the durable transport, for consuming and for producing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_handlers: dict[str, BatchHandler] = {}
        self.records = RecordBuffer()  # what batch agents produce, sent after each batch

    def _new_transport(self) -> TransportT:
        return DurableTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> TransportT:
        return DurableTransport(self.conf.broker_producer, self)

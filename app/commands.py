"""Puts HTTP commands durably into Kafka: the API answers only after the broker acknowledged."""

import asyncio

import msgspec
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from mode import Service

from app.broker_access import KafkaAccess
from app.errors import BrokerUnavailable
from protocols.topics import TopicSpec
from protocols.trace_headers import Header

SEND_WAIT = 5.0  # seconds a request waits for Kafka's acknowledgement before it answers 503

_encoder = msgspec.json.Encoder()


class CommandProducer(Service):
    """An idempotent, acks=all producer owned by the worker, for the API's order commands."""

    def __init__(self, kafka: KafkaAccess, inbox: TopicSpec) -> None:
        super().__init__()
        self.kafka = kafka
        self.inbox = inbox
        self._producer: AIOKafkaProducer | None = None

    async def on_start(self) -> None:
        """Connect to Kafka."""
        self._producer = AIOKafkaProducer(
            **self.kafka.client_options(), acks="all", enable_idempotence=True, linger_ms=1
        )
        await self._producer.start()

    async def on_stop(self) -> None:
        """Flush and close."""
        if self._producer is not None:
            await self._producer.stop()

    async def send(self, key: str, value: msgspec.Struct, headers: list[Header]) -> None:
        """Send one command to the order inbox; return once Kafka has it (all ISRs), else 503.

        `headers`: the request's flow (its correlation id and `traceparent`).
        """
        if self._producer is None:
            raise RuntimeError("the command producer is not started")
        sent = self._producer.send_and_wait(
            self.inbox.name, _encoder.encode(value), key=key.encode(), headers=headers
        )
        try:
            await asyncio.wait_for(sent, SEND_WAIT)
        except (KafkaError, TimeoutError) as exc:
            raise BrokerUnavailable(
                f"Kafka did not acknowledge the command within {SEND_WAIT:.0f} s ({exc!r}); "
                "retry the same request (an order_id or Idempotency-Key makes a retry safe)"
            ) from exc

"""A Faust producer whose flush waits for every message handed to it.

Faust commits a source offset after `producer.flush()`. The stock flush gives up on its
buffer after 0.1 s without a send, and cannot see a message the buffer has taken off its
queue but not yet handed to aiokafka. Either way a table's changelog write could still be
in memory when the offset of the event that caused it was committed: a kill -9 then lost
the effect for good. Here flush returns only when every message given to `send_soon`
before it was acknowledged by Kafka. Once a send has failed every later flush raises,
so no commit ever passes the lost message: the worker stops and the events are redone.
"""

import asyncio
from typing import Any

from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import FutureMessage

from agents.runtime.partition_senders import PartitionSenders
from agents.runtime.record_buffer import Record, RecordBuffer
from protocols.trace_headers import Header


class DurableProducer(aiokafka_driver.Producer):
    """`flush()` means: everything sent so far (`send_soon` or `send_now`) is acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unconfirmed: set[asyncio.Future[Any]] = set()
        self._failure: BaseException | None = None
        self._senders = PartitionSenders(self._hand_over)

    def send_soon(self, fut: FutureMessage) -> None:
        """Buffer the message as Faust does, and remember it until Kafka confirms it."""
        self._unconfirmed.add(fut)
        fut.add_done_callback(self._confirmed)
        super().send_soon(fut)

    async def send_now(
        self,
        topic: str,
        key: bytes,
        value: bytes | None,
        partition: int | None = None,
        headers: list[Header] | None = None,
    ) -> "asyncio.Future[Any]":
        """Hand one record straight to aiokafka, remembered like a buffered one.

        Faust's `Topic.send` adds a FutureMessage, the sensors and a publish callback to
        every record; without them the order agents' few records per event made a fifth
        more orders per second (`python -m bench.orders`).
        """
        fut: asyncio.Future[Any] = await self._ensure_producer().send(
            topic, value, key=key, partition=partition, headers=headers or None
        )
        self._unconfirmed.add(fut)
        fut.add_done_callback(self._confirmed)
        return fut

    async def send_buffer(self, buffer: RecordBuffer) -> None:
        """Queue what `buffer` holds for its partitions' senders; nothing here waits for Kafka.

        Each partition's records go out as whole record batches, closed at once so they
        do not linger; `flush` waits for them like any other send.
        """
        producer = self._ensure_producer()
        for topic in buffer.topics_to_learn():
            await producer.client._wait_on_metadata(topic)
            buffer.learn(topic, len(producer.client.cluster.partitions_for_topic(topic)))
        for (topic, partition), group in buffer.take().items():
            delivered = self._senders.enqueue(topic, partition, group.records)
            self._unconfirmed.add(delivered)
            delivered.add_done_callback(self._confirmed)
            for callback in group.on_sent:
                callback(delivered)

    async def _hand_over(
        self, topic: str, partition: int, records: list[Record]
    ) -> "asyncio.Future[Any]":
        """The records as few closed record batches as fit; the future of the last one."""
        producer = self._ensure_producer()
        last: asyncio.Future[Any] | None = None
        batch = producer.create_batch()
        for key, value, headers in records:
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is not None:
                continue
            if batch.record_count():
                batch.close()
                last = await producer.send_batch(batch, topic, partition=partition)
                batch = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                # larger than a batch: aiokafka sizes a batch of its own for it
                last = await self.send_now(topic, key, value, partition, headers)
        if batch.record_count():
            batch.close()
            last = await producer.send_batch(batch, topic, partition=partition)
        assert last is not None
        return last

    def _confirmed(self, fut: asyncio.Future[Any]) -> None:
        self._unconfirmed.discard(fut)
        if self._failure is None:
            if fut.cancelled():
                self._failure = asyncio.CancelledError("a buffered send was cancelled")
            else:
                self._failure = fut.exception()

    async def flush(self) -> None:
        """Wait for the acknowledgement of every message buffered so far, then aiokafka's flush.

        Only those: the offsets Faust commits after this flush belong to events processed
        before it, and under steady load the set of unconfirmed messages is never empty.
        """
        buffered = list(self._unconfirmed)
        if buffered:
            await asyncio.wait(buffered)
        if self._failure is not None:
            raise RuntimeError(f"a buffered send failed: {self._failure!r}") from self._failure
        await super().flush()

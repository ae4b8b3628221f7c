"""Reads the traced topics into the trace index, from TRACE_WINDOW_S ago onwards.

A worker's API process reads the records of the last hour when it starts (Kafka finds
the offsets by time) and everything after, as they come. What an index holds is
bounded by its byte budget; what is older than the window at start is not looked at.
"""

import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from mode import Service

from app.broker_access import KafkaAccess
from app.read.trace_index import TraceIndex
from protocols.traces import Trace

TRACE_WINDOW_S = 3600

log = logging.getLogger(__name__)


class TraceMirror(Service):
    """Feeds a `TraceIndex` with every partition of its topics, from the window's start."""

    def __init__(self, kafka: KafkaAccess, index: TraceIndex) -> None:
        super().__init__()
        self.kafka = kafka
        self.index = index
        self._targets: dict[TopicPartition, int] = {}
        self._caught_up = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None

    async def on_start(self) -> None:
        """Mirror in the background."""
        self.add_future(self._mirror())

    async def on_stop(self) -> None:
        """Close the consumer."""
        if self._consumer is not None:
            await self._consumer.stop()

    @property
    def ready(self) -> bool:
        """True once every partition was read up to its end at start."""
        return self._caught_up.is_set()

    def trace(self, correlation_id: str) -> Trace | None:
        """The flow's messages in time order, or None when none is known."""
        return self.index.trace(correlation_id)

    async def _mirror(self) -> None:
        self._consumer = consumer = AIOKafkaConsumer(
            **self.kafka.client_options(),
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        tps = await self._partitions(consumer)
        consumer.assign(tps)
        await self._seek_to_window(consumer, tps)
        ends = await consumer.end_offsets(tps)
        self._targets = {tp: end for tp, end in ends.items() if end > await consumer.position(tp)}
        while not self.should_stop:
            if not self._targets:
                self._caught_up.set()
            for tp, records in (await consumer.getmany(timeout_ms=200, max_records=2000)).items():
                for record in records:
                    self.index.add_record(record)
                if records and records[-1].offset + 1 >= self._targets.get(tp, 0):
                    self._targets.pop(tp, None)

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """Every partition of the traced topics (the worker declared them before it started)."""
        client = consumer._client  # as the durable producer does: metadata of unsubscribed topics
        existing = await consumer.topics()
        found: list[TopicPartition] = []
        for topic in self.index.topics.names():
            if topic not in existing:
                log.warning("trace index: topic %s does not exist; not traced", topic)
                continue
            await client._wait_on_metadata(topic)
            partitions = client.cluster.partitions_for_topic(topic) or ()
            found.extend(TopicPartition(topic, partition) for partition in sorted(partitions))
        return found

    async def _seek_to_window(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        since_ms = int((time.time() - TRACE_WINDOW_S) * 1000)
        found = await consumer.offsets_for_times({tp: since_ms for tp in tps})
        for tp in tps:
            at = found.get(tp)
            if at is None:
                await consumer.seek_to_end(tp)  # nothing written since the window began
            else:
                consumer.seek(tp, at.offset)

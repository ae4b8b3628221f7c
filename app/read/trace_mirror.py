"""Reads the traced topics into the trace index, from TRACE_WINDOW_S ago onwards.

A worker's API process reads the records of the last hour when it starts (Kafka finds
the offsets by time) and everything after, as they come. What an index holds is
bounded by its byte budget; what is older than the window at start is not looked at,
and of the window only the newest records the budget could hold: the shared output
topics carry every deployment's records, and reading an hour of them (a million on a
busy dev stack) took minutes of the API process's CPU after each start.
"""

import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.broker_access import KafkaAccess
from app.read.topic_reader import Place, Span, TopicReader, newest_share
from app.read.trace_index import TraceIndex
from protocols.traces import Trace

TRACE_WINDOW_S = 3600

log = logging.getLogger(__name__)


class TraceMirror(TopicReader):
    """Feeds a `TraceIndex` with every partition of its topics, from the window's start."""

    def __init__(self, kafka: KafkaAccess, index: TraceIndex) -> None:
        place = from_window(index.topics.names(), TRACE_WINDOW_S, index.capacity)
        super().__init__(kafka, place, index.add_record, offset_reset="latest")
        self.index = index

    def trace(self, correlation_id: str) -> Trace | None:
        """The flow's messages in time order, or None when none is known."""
        return self.index.trace(correlation_id)


def from_window(topics: Sequence[str], window_s: float, max_records: int) -> Place:
    """Every partition of `topics`, each at its first record of the last `window_s` (or its
    end), reading at most about `max_records` of the window over all of them."""

    async def place(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        tps = await _partitions(consumer, topics)
        consumer.assign(tps)
        window = await _window(consumer, tps, int((time.time() - window_s) * 1000))
        for tp, offset in newest_share(window, max_records).items():
            consumer.seek(tp, offset)
        return tps

    return place


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of the traced topics (the worker declared them before it started)."""
    client = consumer._client  # as the durable producer does: metadata of unsubscribed topics
    existing = await consumer.topics()
    found: list[TopicPartition] = []
    for topic in topics:
        if topic not in existing:
            log.warning("trace index: topic %s does not exist; not traced", topic)
            continue
        await client._wait_on_metadata(topic)
        partitions = client.cluster.partitions_for_topic(topic) or ()
        found.extend(TopicPartition(topic, partition) for partition in sorted(partitions))
    return found


async def _window(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], since_ms: int
) -> dict[TopicPartition, Span]:
    """Each partition's first offset written since `since_ms` (its end if none), and its end."""
    found = await consumer.offsets_for_times({tp: since_ms for tp in tps})
    ends = await consumer.end_offsets(tps)
    window = {}
    for tp in tps:
        at = found.get(tp)
        window[tp] = (ends[tp] if at is None else at.offset, ends[tp])
    return window

"""What a batch agent produces while it handles a batch, sent as one record batch per partition.

aiokafka's `send()` costs a partitioner call, a metadata look-up and a future per
record; a batch of a few hundred events made a few thousand of them. Here records are
grouped by topic partition and each group goes to aiokafka as whole record batches
(`DurableProducer.send_buffer`), so the cost is per partition, not per record. Keyed
records land where Kafka's default partitioner puts them (murmur2 of the key, as the
Java client and aiokafka do), so every consumer sees a key on the usual partition.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka.partitioner import murmur2

from protocols.trace_headers import Header

Sent = Callable[["asyncio.Future[Any]"], None]
"""Told the future of a partition's last record batch once it is handed to aiokafka."""

Record = tuple[bytes, bytes | None, list[Header]]
"""Key, value and headers (a changelog record has none)."""
_NO_HEADERS: list[Header] = []  # shared, never appended to
_KEY_CACHE = 65_536  # keys whose partition is remembered (SKUs and orders recur)


@dataclass
class Partitioned:
    """One topic partition's records in the order added, and who waits for them to be sent."""

    records: list[Record] = field(default_factory=list)
    on_sent: list[Sent] = field(default_factory=list)


class RecordBuffer:
    """Records to send, by topic and then partition (None: by the key's hash)."""

    def __init__(self) -> None:
        self._topics: dict[str, dict[int | None, Partitioned]] = {}
        self._partition_counts: dict[str, int] = {}
        self._key_partitions: dict[tuple[str, bytes], int] = {}

    def add(
        self,
        topic: str,
        key: bytes,
        value: bytes | None,
        partition: int | None = None,
        headers: list[Header] = _NO_HEADERS,
    ) -> None:
        """Buffer one record; without a partition it goes where its key hashes to."""
        if partition is None and topic in self._partition_counts:
            partition = self._partition_for(topic, key)
        self._group(topic, partition).records.append((key, value, headers))

    def on_sent(self, topic: str, partition: int, callback: Sent) -> None:
        """Call `callback` with the partition's last batch future when the buffer is sent."""
        self._group(topic, partition).on_sent.append(callback)

    def topics_to_learn(self) -> list[str]:
        """Topics with records whose partition count is not known yet."""
        return [topic for topic in self._topics if topic not in self._partition_counts]

    def learn(self, topic: str, partitions: int) -> None:
        """Remember how many partitions `topic` has; it never changes (checked at start)."""
        self._partition_counts[topic] = partitions

    def take(self) -> dict[tuple[str, int], Partitioned]:
        """Everything buffered by topic partition; the buffer is empty after."""
        taken: dict[tuple[str, int], Partitioned] = {}
        for topic, groups in self._topics.items():
            for partition, group in groups.items():
                if partition is not None:
                    taken[(topic, partition)] = group
                    continue
                for record in group.records:
                    where = self._partition_for(topic, record[0])
                    taken.setdefault((topic, where), Partitioned()).records.append(record)
        self._topics = {}
        return taken

    def _group(self, topic: str, partition: int | None) -> Partitioned:
        groups = self._topics.get(topic)
        if groups is None:
            groups = self._topics[topic] = {}
        group = groups.get(partition)
        if group is None:
            group = groups[partition] = Partitioned()
        return group

    def _partition_for(self, topic: str, key: bytes) -> int:
        found = self._key_partitions.get((topic, key))
        if found is None:
            if len(self._key_partitions) >= _KEY_CACHE:
                self._key_partitions.clear()
            found = (murmur2(key) & 0x7FFFFFFF) % self._partition_counts[topic]
            self._key_partitions[(topic, key)] = found
        return found

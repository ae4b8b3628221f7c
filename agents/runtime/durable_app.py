"""The Faust app distgate runs: aiokafka, with the producer and consumer that lose nothing.

`DurableProducer`: a commit waits until Kafka has every write made before it.
`DurableConsumer`: batch agents get whole fetches; a seek cannot skip an event.
The tables' rows (`TableRows`) restore only from offsets a successful commit vouched for,
and a member the group may have dropped sends nothing (`Membership`).
"""

from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP, TableT, TransportT

from agents.runtime.durable_consumer import BatchHandler, DurableConsumer
from agents.runtime.durable_producer import DurableProducer
from agents.runtime.failpoints import Failpoints
from agents.runtime.membership import Membership, watch_heartbeats
from agents.runtime.record_buffer import RecordBuffer
from agents.runtime.rows import TableRows


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
        self.table_rows: list[TableRows] = []
        self.failpoints = Failpoints()  # armed by the worker from its settings
        self.membership = Membership(self.conf.broker_session_timeout)

    def rows(self, table: TableT[bytes, bytes]) -> TableRows:
        """The rows batch actors write `table` through."""
        rows = TableRows(table, self.records)
        self.table_rows.append(rows)
        return rows

    async def _on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        """Before Faust restores the tables: written partitions restore from a vouched offset.

        An assignment is the group confirming this member; its heartbeats are watched from now.
        """
        self.membership.confirmed()
        aiokafka_consumer = cast(DurableConsumer, self.consumer)._thread._ensure_consumer()
        watch_heartbeats(aiokafka_consumer._coordinator, self.membership)
        for rows in self.table_rows:
            topic = rows.changelog_topic
            rows.reassigned(tp.partition for tp in assigned if tp.topic == topic)
        await super()._on_partitions_assigned(assigned, generation_id)

    def _new_transport(self) -> TransportT:
        return DurableTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> TransportT:
        return DurableTransport(self.conf.broker_producer, self)

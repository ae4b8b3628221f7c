"""A Faust consumer that hands batch agents whole fetches, and whose seek cannot skip an event.

**Batches.** Faust passes every record through its drain loop (`wait_first`, a task and
an `asyncio.wait` per record), the conductor's queue and the stream: about 50 us a
record, and the agent never sees more than one record at a time. A topic with a batch
handler (`agents.runtime.batch_agent`) skips all of it: each fetch is split by
partition and each partition's records go to its handler in one call, in offset order.
They are tracked and acked like the stream's, so commits, `wait_empty` on rebalance
and the producer flush before a commit work as for any agent. Topics without a batch
handler (the relays, the WMS command publisher) take Faust's path.

**Seeks.** After a rebalance that restored a table, Faust's fetch loop is already
running when it resumes the stream partitions and then seeks them to their committed
offsets. A batch fetched before the seek could still reach the agents while it ran,
move the read offsets forward again, and an event was skipped and committed over. Here
the seek first stops the flow and waits until the fetch loop has delivered (or dropped)
the fetch in hand; whatever it had not delivered is fetched again. A partition without
a committed offset is sought to its beginning, as `auto_offset_reset="earliest"` would
have it: aiokafka's seek leaves it where the fetcher got to, and Faust drops a fetch
taken while the flow is stopped. The tables' offsets make a replay apply once.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP, Message
from mode import ServiceT

BatchHandler = Callable[[TP, list[Message]], Awaitable[None]]
"""Applies one partition's records of one fetch, in offset order."""


class DurableConsumer(aiokafka_driver.Consumer):
    """Whole fetches for batch agents; `perform_seek()` means nothing fetched before it is seen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._between_fetches = asyncio.Event()
        self._between_fetches.set()

    @property
    def batch_handlers(self) -> Mapping[str, BatchHandler]:
        """Batch handlers by topic name, registered on the app."""
        return cast(Mapping[str, BatchHandler], getattr(self.app, "batch_handlers", {}))

    async def _drain_messages(self, fetcher: ServiceT) -> None:
        """Fetch, split by partition, deliver; until the consumer or the fetcher stops."""
        stopped = cast(Any, self)._stopped.is_set
        fetcher_stopped = cast(Any, fetcher)._stopped.is_set
        try:
            while not (stopped() or fetcher_stopped()):
                self.diag.set_flag(CONSUMER_FETCHING)
                await self.sleep(0)
                if not self.should_stop:
                    await self._fetch_and_deliver()
                self.diag.unset_flag(CONSUMER_FETCHING)
        except asyncio.CancelledError:
            if not self.transport.app.should_stop:
                raise
        except Exception as exc:
            if not (
                isinstance(exc, self.consumer_stopped_errors) and self.transport.app.should_stop
            ):
                raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _fetch_and_deliver(self) -> None:
        """One fetch: batch topics by partition, the others one record at a time."""
        handlers = self.batch_handlers
        batches: dict[TP, list[Message]] = {}
        singles: list[Message] = []
        self._between_fetches.clear()
        try:
            async for tp, message in self.getmany(timeout=1.0):
                if tp.topic in handlers:
                    batches.setdefault(tp, []).append(message)
                else:
                    singles.append(message)
            for tp, messages in batches.items():
                if not self.flow_active:
                    return  # a rebalance began: the rest is fetched again after the seek
                await self._deliver_batch(handlers[tp.topic], tp, messages)
            for message in singles:
                if not self.flow_active:
                    return  # as for batches: the rest is fetched again after the seek
                await self._deliver_single(message)
        finally:
            self._between_fetches.set()

    async def _deliver_batch(self, handler: BatchHandler, tp: TP, messages: list[Message]) -> None:
        fresh = await self._unread(tp, messages)
        if not fresh:
            return
        # tracked for `wait_empty` and acked for the commit, as Faust's conductor does; its
        # per-record sensors are skipped (distgate counts applied events itself)
        self._unacked_messages |= set(fresh)
        await handler(tp, fresh)
        for message in fresh:
            self.ack(message)
        self._read_offset[tp] = fresh[-1].offset
        await self._maybe_commit()

    async def _deliver_single(self, message: Message) -> None:
        """Faust's own path for one record of a topic without a batch handler."""
        if not await self._unread(message.tp, [message]):
            return
        await self._maybe_commit()
        await self.wait_first(self.callback(message), self.suspend_flow.wait())
        self._read_offset[message.tp] = message.offset

    async def _unread(self, tp: TP, messages: list[Message]) -> list[Message]:
        """The records past the read offset; a jump in offsets is recorded as a gap."""
        read = self._read_offset[tp]
        fresh = [m for m in messages if read is None or m.offset >= read]
        if (
            fresh
            and read
            and fresh[0].offset - read > 1
            and self.app.topics.acks_enabled_for(tp.topic)
        ):
            await self._add_gap(tp, read + 1, fresh[0].offset)
        return fresh

    async def _maybe_commit(self) -> None:
        every = self._commit_every
        if every is not None and self._n_acked >= every:
            self._n_acked = 0
            await self.commit()

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        """Commit as a member; on success the tables may restore from where they were before.

        A worker the group may have dropped commits nothing: aiokafka would commit its
        stale offsets outside any generation once the group is empty, over the ones the
        partitions' next owner committed.
        """
        membership = getattr(self.app, "membership", None)
        if membership is not None and membership.lapsed():
            return False
        tables = getattr(self.app, "table_rows", [])
        assigned = {tp.partition for tp in self.assignment()}
        persisted = [rows.persisted(assigned) for rows in tables]
        committed = await super()._commit(offsets)
        if committed and not (membership is not None and membership.lapsed()):
            for rows, offsets_before in zip(tables, persisted, strict=True):
                rows.trust(offsets_before)
        return committed

    async def perform_seek(self) -> None:
        """Stop delivering the fetch in hand, then seek; the caller resumes the flow.

        Faust calls this with the flow running only from recovery, which resumes the
        flow right after it. With the flow stopped it is called from inside `getmany`,
        where there is no fetch being delivered to wait for.
        """
        if self.flow_active:
            self.stop_flow()
            await self._between_fetches.wait()
        await super().perform_seek()

    async def seek_to_committed(self) -> Mapping[TP, int]:
        """Seek to the committed offsets; a stream partition without one to its beginning."""
        committed = await super().seek_to_committed()
        fresh = [
            tp for tp, offset in committed.items() if not offset and not self._is_changelog_tp(tp)
        ]
        if fresh:
            await self._thread.seek_to_beginning(*fresh)
        return committed

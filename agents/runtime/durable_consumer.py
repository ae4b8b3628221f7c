"""A Faust consumer whose seek to the committed offsets cannot skip an event.

After a rebalance that restored a table, Faust's fetch loop is already running when it
resumes the stream partitions and then seeks them to their committed offsets. Records
fetched from before the seek were still handed to the agents while it ran. The seek
rewinds the read offsets, the old batch then moved them forward again, and resuming
the flow cleared the agents' queues: an event still queued was dropped. Its offset
counted as read, so the records fetched again from the committed offset skipped it,
and the commit went past it. One event lost per partition, now and then, after a
restart. Here the seek first stops the flow and waits until the fetch loop has left
the batch it was handing over; whatever it had not applied is fetched again.

Fetched again only if the seek moves the position back. aiokafka's seek leaves a
partition without a committed offset where the fetcher got to, and Faust drops a batch
fetched while the flow is stopped: a worker restarted before its first commit then
skipped every record fetched so far. Such a partition is sought to its beginning, as
`auto_offset_reset="earliest"` would have it; the tables' offsets make the replay apply
once.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP, Message


class DurableConsumer(aiokafka_driver.Consumer):
    """`perform_seek()` means: nothing fetched before it reaches an agent after it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._between_batches = asyncio.Event()
        self._between_batches.set()

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:  # noqa: ASYNC109
        """Faust's batch (and Faust's signature), marked while the fetch loop hands it over."""
        try:
            async for tp_message in super().getmany(timeout):
                self._between_batches.clear()
                yield tp_message
        finally:
            self._between_batches.set()

    async def perform_seek(self) -> None:
        """Stop handing over the batch in hand, then seek; the caller resumes the flow.

        Faust calls this with the flow running only from recovery, which resumes the
        flow right after it. With the flow stopped it is called from inside `getmany`,
        where there is no batch to wait for.
        """
        if self.flow_active:
            self.stop_flow()
            await self._between_batches.wait()
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

"""Counting events done when Kafka acknowledged every record they produced."""

import asyncio
import time
from collections.abc import Sequence


class Outstanding:
    """Events whose outputs are in flight: done once all their acks are in, failed if one failed."""

    def __init__(self) -> None:
        self.done = 0
        self.failed = 0
        self.last_done_at = time.perf_counter()
        self._all_in: tuple[int, asyncio.Event] | None = None

    def track(self, acks: Sequence[asyncio.Future[object]]) -> None:
        """Settle the event when the last of `acks` resolves (at once when there are none)."""
        if not acks:
            self._settle(ok=True)
            return
        waiting, ok = [len(acks)], [True]

        def one(ack: asyncio.Future[object]) -> None:
            ok[0] = ok[0] and not ack.cancelled() and ack.exception() is None
            waiting[0] -= 1
            if waiting[0] == 0:
                self._settle(ok[0])

        for ack in acks:
            ack.add_done_callback(one)

    @property
    def settled(self) -> int:
        """Events whose acks all resolved, either way."""
        return self.done + self.failed

    async def wait_settled(self, events: int) -> None:
        """Return once `events` events have settled."""
        if self.settled < events:
            self._all_in = (events, asyncio.Event())
            await self._all_in[1].wait()

    def _settle(self, ok: bool) -> None:
        if ok:
            self.done += 1
        else:
            self.failed += 1
        self.last_done_at = time.perf_counter()
        if self._all_in is not None and self.settled >= self._all_in[0]:
            self._all_in[1].set()

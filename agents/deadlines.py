"""The decision timeout's clock: orders ERP never decided are sent a DecisionOverdue.

Nothing arrives for an order ERP forgot, so a timer looks for them: every tick it reads
the next slice of each order partition this process holds and sends each overdue
order a DecisionOverdue on its inbox. The order agent applies it like any message, so
the cancel happens once, in order with everything else, and not if ERP decided since.
A notice lost in a crash is sent again by a later tick.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable

import faust
import msgspec

from agents.runtime.correlated import correlated
from agents.runtime.rows import TableRows
from protocols.order_commands import DecisionOverdue
from tables.keys import is_value_key
from tables.order.deadline import DeadlineFields, decision_overdue, overdue_notice

TICK_S = 10.0
SCAN_KEYS = 2_000  # rows read per partition and tick: a few milliseconds

_encoder = msgspec.json.Encoder()
_decoder = msgspec.msgpack.Decoder(DeadlineFields)
log = logging.getLogger(__name__)


class DecisionDeadlines:
    """Finds the overdue orders of the partitions this process holds, a slice at a time."""

    def __init__(
        self,
        rows: TableRows,
        inbox: faust.TopicT,
        timeout: dt.timedelta,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.rows = rows
        self.inbox = inbox
        self.timeout = timeout
        self.clock = clock
        self._next: dict[int, bytes] = {}  # where each partition's next slice starts

    def overdue(self, partition: int, now: dt.datetime) -> list[DecisionOverdue]:
        """The overdue orders in the partition's next slice; the slice after starts after it."""
        rows = self.rows.partition(partition).scan(self._next.get(partition, b""), SCAN_KEYS)
        self._next[partition] = rows[-1][0] + b"\x00" if len(rows) == SCAN_KEYS else b""
        orders = (_order(raw) for key, raw in rows if is_value_key(key))
        return [
            overdue_notice(o, now)
            for o in orders
            if o is not None and decision_overdue(o, now, self.timeout)
        ]

    async def tick(self, partitions: Iterable[int]) -> int:
        """Send every overdue order of the next slices its notice; how many were sent."""
        now, sent = self.clock(), 0
        for partition in partitions:
            for notice in self.overdue(partition, now):
                key, value = notice.order_id.encode(), _encoder.encode(notice)
                headers = correlated(notice.correlation_id).headers
                await self.inbox.send(key=key, value=value, headers=headers)
                sent += 1
        return sent


def register_deadlines(app: faust.App, deadlines: DecisionDeadlines) -> None:
    """Tick every TICK_S over the order inbox partitions this process is assigned."""
    inbox = deadlines.inbox.get_topic_name()

    async def tick() -> None:
        partitions = [tp.partition for tp in app.consumer.assignment() if tp.topic == inbox]
        try:
            await deadlines.tick(partitions)
        except Exception:  # a tick must never stop the agents: the next one tries again
            log.exception("decision deadlines: tick failed")

    app.timer(interval=TICK_S)(tick)


def _order(raw: bytes) -> DeadlineFields | None:
    """What the timeout reads of the order a row holds; None for a row that is none (the
    store's own bookkeeping)."""
    try:
        return _decoder.decode(raw)
    except msgspec.DecodeError:
        return None

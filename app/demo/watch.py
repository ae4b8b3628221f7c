"""What the live view shows: the gateway's own output on Kafka, and how fast it applies input.

The watcher also keeps each order's cancel event and its reason, which the check compares.
"""

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import msgspec
from aiokafka import AIOKafkaConsumer

from protocols.inventory import StockChanged
from protocols.orders import OrderCancelled, OrderEvent, OrderRemainderCancelled
from protocols.topics import INVENTORY_EVENTS, ORDERS_EVENTS, decoder_for

APPLIED = "distgate_events_applied_total{"


@dataclass
class Watcher:
    """The run's latest order statuses and stock positions, from the gateway's own topics."""

    bootstrap: str
    order_prefix: str
    sku_prefix: str
    statuses: dict[str, tuple[int, str]] = field(default_factory=dict)  # id -> (version, status)
    positions: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # on_hand, atp
    closings: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (cancel, reason)

    async def start(self) -> None:
        """Read both topics from their current end on."""
        self._consumer = AIOKafkaConsumer(
            ORDERS_EVENTS.name,
            INVENTORY_EVENTS.name,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="latest",
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop reading."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._consumer.stop()

    def by_status(self) -> Counter[str]:
        """How many of the run's orders are in each status."""
        return Counter(status for _, status in self.statuses.values())

    def by_warehouse(self) -> dict[str, tuple[int, int]]:
        """on_hand and ATP of the run's SKUs, summed per warehouse."""
        totals: dict[str, tuple[int, int]] = {}
        for (_, warehouse), (on_hand, atp) in self.positions.items():
            was = totals.get(warehouse, (0, 0))
            totals[warehouse] = (was[0] + on_hand, was[1] + atp)
        return totals

    async def _loop(self) -> None:
        orders, stock = decoder_for(ORDERS_EVENTS), decoder_for(INVENTORY_EVENTS)
        async for record in self._consumer:
            try:
                if record.topic == ORDERS_EVENTS.name:
                    self._order(orders.decode(record.value))
                else:
                    self._stock(stock.decode(record.value))
            except msgspec.DecodeError:
                continue  # not ours to judge: the check reads the API

    def _order(self, event: OrderEvent) -> None:
        if event.order_id.startswith(self.order_prefix):
            seen = self.statuses.get(event.order_id, (0, ""))
            if event.version > seen[0]:
                self.statuses[event.order_id] = (event.version, str(event.status))
            if isinstance(event, OrderCancelled | OrderRemainderCancelled):
                tag = str(type(event).__struct_config__.tag)
                self.closings[event.order_id] = (tag, event.reason)

    def _stock(self, change: StockChanged) -> None:
        if change.sku.startswith(self.sku_prefix):
            self.positions[(change.sku, change.warehouse)] = (change.on_hand, change.atp)


@dataclass
class Throughput:
    """Input messages the worker applied per second, from its /metrics."""

    url: str
    rate: float = 0.0
    _last: tuple[float, float] | None = None

    async def sample(self, http: aiohttp.ClientSession) -> None:
        """Read the counter once; the rate is over the time since the previous sample."""
        try:
            async with http.get(f"{self.url}/metrics") as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError):
            return
        total = sum(
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(APPLIED)
        )
        now = time.monotonic()
        if self._last is not None and now > self._last[0]:
            self.rate = max(0.0, (total - self._last[1]) / (now - self._last[0]))
        self._last = (now, total)

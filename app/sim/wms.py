"""A WMS simulator: plays one or more warehouses over AMQP, for the tests, the demo and the bench.

It answers every Release for its warehouses with a PickConfirm after `pick_delay` (a line
is short with probability `short_pick_rate`) and a ShipConfirm of what was picked after
`ship_delay`, unless a Cancel for that order came first; and it publishes receipts,
adjustments, holds and counts on request. Everything it published is kept in `sent`, in
the order RabbitMQ confirmed it: the truth an oracle is computed from. Short picks are
drawn in the order releases arrive, so one seed gives one outcome.
"""

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import aio_pika
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.exceptions import AMQPError

from app.sim.truth import StockFigures, stock_truth
from protocols.amqp import SHARED_EXCHANGES, WMS_COMMANDS_EXCHANGE, WMS_EVENTS_EXCHANGE
from protocols.wms import (
    AdjustReason,
    CountLine,
    DeltaLine,
    NumberedLine,
    PickLine,
    ReceiptLine,
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsKind,
    WmsMessage,
    WmsPickConfirm,
    WmsReceipt,
    WmsShipConfirm,
    routing_key,
)
from protocols.wms_xml_peer import WarehouseCancel, WarehouseRelease, decode_command, encode_wms

T = TypeVar("T")
REPUBLISH_ATTEMPTS = 120  # a minute and more of broker restart
REPUBLISH_PAUSE_S = 1.0
KINDS: dict[type, WmsKind] = {
    WmsReceipt: "receipt",
    WmsAdjust: "adjust",
    WmsHold: "hold",
    WmsCount: "count",
    WmsPickConfirm: "pick",
    WmsShipConfirm: "ship",
}


@dataclass(frozen=True)
class Sent:
    """One message the simulator published and RabbitMQ confirmed."""

    routing_key: str
    message: WmsMessage
    body: bytes


@dataclass
class WmsSimulator:
    """Warehouses over AMQP: `start()`, publish or let releases come in, `stop()`."""

    amqp_url: str
    warehouses: Sequence[str]
    short_pick_rate: float = 0.02
    pick_delay: float = 0.05
    ship_delay: float = 0.05
    seed: int = 0
    txn_prefix: str = field(default_factory=lambda: f"SIM{uuid.uuid4().hex[:6].upper()}")
    queue_name: str | None = None  # None: a private queue that goes away with the simulator
    # wms.commands is shared by every deployment on the broker: answer only these orders
    orders_prefix: str = ""
    sent: list[Sent] = field(default_factory=list)
    releases: list[WarehouseRelease] = field(default_factory=list)
    cancels: list[WarehouseCancel] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._txns: dict[str, int] = {}
        self._cancelled: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._connection: AbstractRobustConnection | None = None
        self._events: AbstractExchange | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._answering = asyncio.Event()
        self._answering.set()

    async def start(self) -> None:
        """Connect, bind a queue for the warehouses' commands, and start answering."""
        self._connection = connection = await aio_pika.connect_robust(self.amqp_url, timeout=30)
        publishing = await connection.channel(publisher_confirms=True, on_return_raises=True)
        for spec in SHARED_EXCHANGES:  # as distgate declares them: the simulator may start first
            await publishing.declare_exchange(
                spec.name, aio_pika.ExchangeType(spec.type), durable=True
            )
        self._events = await publishing.get_exchange(WMS_EVENTS_EXCHANGE, ensure=False)
        consuming = await connection.channel()
        await consuming.set_qos(prefetch_count=100)
        private = self.queue_name is None
        queue = await consuming.declare_queue(
            self.queue_name, durable=not private, exclusive=private, auto_delete=private
        )
        for warehouse in self.warehouses:
            for kind in ("release", "cancel"):
                await queue.bind(WMS_COMMANDS_EXCHANGE, routing_key(warehouse, kind))
        self._queue = queue
        self._consumer_tag = await queue.consume(self._on_command)

    async def pause(self) -> None:
        """An outage: stop taking commands (they wait in the durable queue) and answering."""
        self._answering.clear()
        if self._queue is not None and self._consumer_tag is not None:
            tag = self._consumer_tag
            await self._on_restored_channel(lambda queue: queue.cancel(tag))
            self._consumer_tag = None

    async def resume(self) -> None:
        """Back from the outage: answer what was held, then take the queued commands."""
        self._answering.set()
        if self._queue is not None and self._consumer_tag is None:
            self._consumer_tag = await self._on_restored_channel(
                lambda queue: queue.consume(self._on_command)
            )

    async def _on_restored_channel(self, step: Callable[[AbstractQueue], Awaitable[T]]) -> T:
        """Run a step on the queue, waiting out a reconnect (channels come back after it)."""
        assert self._queue is not None
        for _attempt in range(REPUBLISH_ATTEMPTS - 1):
            try:
                return await step(self._queue)
            except (AMQPError, ConnectionError, TimeoutError, RuntimeError):
                await asyncio.sleep(REPUBLISH_PAUSE_S)
        return await step(self._queue)

    async def stop(self) -> None:
        """Stop answering and disconnect (confirmations not yet sent are dropped)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()

    async def receipt(
        self, warehouse: str, qty: Mapping[str, int], po: str | None = None
    ) -> WmsReceipt:
        """Goods arrived: `qty` per SKU."""
        lines = tuple(ReceiptLine(sku, n) for sku, n in qty.items())
        message = WmsReceipt(txn=self.txn(warehouse, "R"), warehouse=warehouse, lines=lines, po=po)
        await self.publish(message)
        return message

    async def adjust(
        self, warehouse: str, delta: Mapping[str, int], reason: AdjustReason | None = None
    ) -> WmsAdjust:
        """On-hand corrected by `delta` per SKU."""
        lines = tuple(DeltaLine(sku, n) for sku, n in delta.items())
        txn = self.txn(warehouse, "A")
        message = WmsAdjust(txn=txn, warehouse=warehouse, lines=lines, reason=reason)
        await self.publish(message)
        return message

    async def hold(
        self, warehouse: str, delta: Mapping[str, int], reason: AdjustReason | None = None
    ) -> WmsHold:
        """Stock blocked (positive) or released (negative) per SKU."""
        lines = tuple(DeltaLine(sku, n) for sku, n in delta.items())
        message = WmsHold(
            txn=self.txn(warehouse, "H"), warehouse=warehouse, lines=lines, reason=reason
        )
        await self.publish(message)
        return message

    async def count(self, warehouse: str, on_hand: Mapping[str, int]) -> WmsCount:
        """A cycle count: the on-hand figure per SKU."""
        lines = tuple(CountLine(sku, n) for sku, n in on_hand.items())
        message = WmsCount(txn=self.txn(warehouse, "C"), warehouse=warehouse, lines=lines)
        await self.publish(message)
        return message

    async def recount(self, warehouse: str, found: Mapping[str, int]) -> WmsCount:
        """A cycle count of what this warehouse's own messages leave, plus `found` per SKU."""
        shelf = stock_truth(sent.message for sent in self.sent)
        on_hand = {
            sku: shelf.get((sku, warehouse), StockFigures()).on_hand + n for sku, n in found.items()
        }
        return await self.count(warehouse, on_hand)

    def txn(self, warehouse: str, kind: str) -> str:
        """The next transaction number of `warehouse` (unique per simulator run)."""
        self._txns[warehouse] = number = self._txns.get(warehouse, 0) + 1
        return f"{self.txn_prefix}-{kind}{number}"

    async def publish(
        self, message: WmsMessage, *, correlation_id: str | None = None, body: bytes | None = None
    ) -> None:
        """Publish `message` (or `body` in its name) and wait for RabbitMQ's confirm."""
        if self._events is None:
            raise RuntimeError("the simulator is not started")
        key = routing_key(message.warehouse, KINDS[type(message)])
        raw = encode_wms(message) if body is None else body
        await self._events.publish(
            aio_pika.Message(
                raw,
                content_type="application/xml",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=f"{message.warehouse}:{message.txn}",
                correlation_id=correlation_id,
            ),
            key,
            mandatory=True,
        )
        self.sent.append(Sent(key, message, raw))

    async def _on_command(self, message: AbstractIncomingMessage) -> None:
        async with message.process(requeue=False):
            command = decode_command(message.body)
            if not command.order.startswith(self.orders_prefix):
                return  # another deployment's order, for another WMS on this broker
            if isinstance(command, WarehouseCancel):
                self.cancels.append(command)
                self._cancelled.add((command.warehouse, command.order))
                return
            if any(
                seen.txn == command.txn and seen.warehouse == command.warehouse
                for seen in self.releases
            ):
                return  # a re-sent Release: txn numbers are unique per warehouse, as a WMS keeps
            self.releases.append(command)
            picks = tuple(
                PickLine(line.no, line.sku, line.qty, self._picked(line.qty))
                for line in command.lines
            )
            task = asyncio.create_task(self._fulfil(command, picks, message.correlation_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _picked(self, qty: int) -> int:
        if self._random.random() < self.short_pick_rate:
            return self._random.randint(0, qty - 1)
        return qty

    async def _fulfil(
        self, release: WarehouseRelease, picks: tuple[PickLine, ...], correlation: str | None
    ) -> None:
        """Pick, then ship what was picked, unless the order is cancelled in between."""
        where, order = release.warehouse, release.order
        await asyncio.sleep(self.pick_delay)
        await self._answering.wait()
        if (where, order) in self._cancelled:
            return
        pick = WmsPickConfirm(txn=self.txn(where, "P"), warehouse=where, order=order, lines=picks)
        await self._publish_until_confirmed(pick, correlation)
        await asyncio.sleep(self.ship_delay)
        await self._answering.wait()
        shipped = tuple(NumberedLine(p.no, p.sku, p.picked) for p in picks if p.picked > 0)
        if (where, order) in self._cancelled or not shipped:
            return
        ship = WmsShipConfirm(
            txn=self.txn(where, "S"),
            warehouse=where,
            order=order,
            lines=shipped,
            carrier="SIM",
            tracking=f"{self.txn_prefix}-{order}",
        )
        await self._publish_until_confirmed(ship, correlation)

    async def _publish_until_confirmed(self, message: WmsMessage, correlation: str | None) -> None:
        """Publish a confirmation, again after a lost connection: a WMS keeps what it owes.

        A confirm lost with the connection may mean the first copy arrived: the gateway
        then sees the same txn twice, as it would from a real WMS's outbox.
        """
        for _attempt in range(REPUBLISH_ATTEMPTS - 1):
            try:
                await self.publish(message, correlation_id=correlation)
                return
            except (AMQPError, ConnectionError, TimeoutError, RuntimeError):
                await asyncio.sleep(REPUBLISH_PAUSE_S)
        await self.publish(message, correlation_id=correlation)

"""A simulated ERP: reads the order lifecycle from Kafka and decides over its real topic.

It confirms most reserved orders, puts some on credit hold (and releases them a little
later), rejects a few, and invoices shipped orders. Each order's fate is a function of
its id and the seed, so a run can be checked against `decisions` afterwards. The orders
named in `never_decide` it loses: it sees them wait and decides nothing (`undecided`).
"""

import asyncio
import contextlib
import hashlib
import uuid
from dataclasses import dataclass, field

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderInvoiced,
    ErpOrderRejected,
    OrderDecision,
)
from protocols.orders import OrderEvent, OrderStatus, OrderStepBase
from protocols.topics import ERP_ORDER_DECISIONS, ORDERS_EVENTS

_events = msgspec.json.Decoder(OrderEvent)
_encoder = msgspec.json.Encoder()
DECIDE_ON = (OrderStatus.RESERVED, OrderStatus.BACKORDERED)


@dataclass
class ErpSimulator:
    """Plays ERP against a running gateway; `decisions` is its own truth per order."""

    bootstrap: str
    hold_rate: float = 0.03
    reject_rate: float = 0.02
    hold_for: float = 1.0
    seed: str = "erp"
    # orders.events is shared by every gateway on the cluster: decide only these orders
    orders_prefix: str = ""
    never_decide: frozenset[str] = frozenset()
    decisions: dict[str, list[str]] = field(default_factory=dict)
    undecided: set[str] = field(default_factory=set)  # seen waiting, never decided
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _run: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start reading orders.events (from now on) and deciding."""
        self._consumer = AIOKafkaConsumer(
            ORDERS_EVENTS.name, bootstrap_servers=self.bootstrap, auto_offset_reset="latest"
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True
        )
        await self._consumer.start()
        await self._producer.start()
        self._run = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop deciding; pending credit releases are dropped."""
        for task in (self._run, *self._tasks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._consumer.stop()
        await self._producer.stop()

    def fate(self, order_id: str) -> str:
        """What this ERP does with a reserved order: confirm, hold (then release) or reject."""
        digest = hashlib.blake2b(f"{self.seed}:{order_id}".encode(), digest_size=8).digest()
        draw = int.from_bytes(digest) / 2**64
        if draw < self.reject_rate:
            return "reject"
        return "hold" if draw < self.reject_rate + self.hold_rate else "confirm"

    async def _loop(self) -> None:
        async for record in self._consumer:
            event = _events.decode(record.value)
            if not event.order_id.startswith(self.orders_prefix):
                continue
            if isinstance(event, OrderStepBase):
                continue  # a short pick, a parcel, a fill: ERP decides on statuses only
            if event.status in DECIDE_ON and event.order_id in self.never_decide:
                self.undecided.add(event.order_id)
            elif event.status in DECIDE_ON and event.order_id not in self.decisions:
                await self._decide(event.order_id)
            elif event.status == OrderStatus.SHIPPED and "OrderInvoiced" not in self._of(event):
                await self._send(
                    ErpOrderInvoiced(
                        event_id=_id(), order_id=event.order_id, invoice_id=f"INV-{event.order_id}"
                    )
                )

    def _of(self, event: OrderEvent) -> list[str]:
        """What this ERP already decided for the event's order (events may come twice)."""
        return self.decisions.get(event.order_id, [])

    async def _decide(self, order_id: str) -> None:
        fate = self.fate(order_id)
        if fate == "confirm":
            await self._send(ErpOrderConfirmed(event_id=_id(), order_id=order_id))
        elif fate == "reject":
            await self._send(ErpOrderRejected(event_id=_id(), order_id=order_id, reason="credit"))
        else:
            await self._send(ErpOrderCreditHold(event_id=_id(), order_id=order_id, reason="limit"))
            task = asyncio.create_task(self._release_later(order_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _release_later(self, order_id: str) -> None:
        await asyncio.sleep(self.hold_for)
        await self._send(ErpOrderCreditReleased(event_id=_id(), order_id=order_id))

    async def _send(self, decision: OrderDecision) -> None:
        tag = str(type(decision).__struct_config__.tag)
        self.decisions.setdefault(decision.order_id, []).append(tag)
        await self._producer.send_and_wait(
            ERP_ORDER_DECISIONS.name,
            _encoder.encode(decision),
            key=decision.order_id.encode(),
        )


def _id() -> str:
    return f"erp-{uuid.uuid4().hex}"

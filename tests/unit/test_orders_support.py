"""Builders the order tests share: inbox messages, and orders driven to each status."""

import datetime as dt

import pytest

from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderInvoiced,
    ErpOrderRejected,
)
from protocols.http import OrderLineRequest
from protocols.order_commands import CancelOrder, SubmitOrder
from protocols.orders import BackorderPolicy
from protocols.reservations import BackorderFilled, Fill, LineReserved, LineUnreservable
from protocols.topics import OrderInboxMessage
from protocols.wms import NumberedLine, PickLine
from protocols.wms_events import PickConfirmed, ShipConfirmed
from tables.order.apply import OrderApplied, apply
from tables.order.value import InvalidOrderTransition, Order

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
ORDER, CUSTOMER, CORRELATION = "SO-1", "C-42", "corr-1"
EAST, WEST = "DC-EAST", "DC-WEST"

Line = tuple[int, str, int, str | None]
LINES: tuple[Line, ...] = ((1, "SKU-1", 2, None), (2, "SKU-2", 3, WEST))
"""The usual order: two units of SKU-1 sourced anywhere, three of SKU-2 asked at DC-WEST."""


def submit(
    *lines: Line, backorder: BackorderPolicy = "reject", digest: str = "d-1", eid: str = "http-1"
) -> SubmitOrder:
    return SubmitOrder(
        event_id=eid,
        order_id=ORDER,
        at=NOW,
        correlation_id=CORRELATION,
        customer_id=CUSTOMER,
        channel="web",
        lines=tuple(OrderLineRequest(no, sku, qty, wh) for no, sku, qty, wh in lines or LINES),
        backorder=backorder,
        digest=digest,
    )


def reserved(no: int, sku: str, qty: int, wh: str, eid: str | None = None) -> LineReserved:
    eid = eid or f"{ORDER}:{no}:reserve:answer"
    return LineReserved(event_id=eid, order_id=ORDER, line_no=no, sku=sku, qty=qty, warehouse=wh)


def unreservable(no: int, sku: str, qty: int, eid: str | None = None) -> LineUnreservable:
    eid = eid or f"{ORDER}:{no}:reserve:answer"
    return LineUnreservable(event_id=eid, order_id=ORDER, line_no=no, sku=sku, qty=qty, atp=0)


def backorder_filled(
    no: int, sku: str, qty: int, *fills: tuple[str, int], eid: str | None = None
) -> BackorderFilled:
    """The stock side's answer to the line's first FillBackorder of `qty`: `fills` now held."""
    return BackorderFilled(
        event_id=eid or f"{ORDER}:{no}:refill@1:answer",
        order_id=ORDER,
        line_no=no,
        sku=sku,
        qty=qty,
        fills=tuple(Fill(wh, n) for wh, n in fills),
    )


def confirmed(eid: str = "erp-confirm") -> ErpOrderConfirmed:
    return ErpOrderConfirmed(event_id=eid, order_id=ORDER)


def credit_hold(eid: str = "erp-hold", reason: str = "over limit") -> ErpOrderCreditHold:
    return ErpOrderCreditHold(event_id=eid, order_id=ORDER, reason=reason)


def credit_released(eid: str = "erp-unhold") -> ErpOrderCreditReleased:
    return ErpOrderCreditReleased(event_id=eid, order_id=ORDER)


def erp_rejected(eid: str = "erp-reject", reason: str = "blocked") -> ErpOrderRejected:
    return ErpOrderRejected(event_id=eid, order_id=ORDER, reason=reason)


def invoiced(eid: str = "erp-invoice", invoice_id: str = "INV-1") -> ErpOrderInvoiced:
    return ErpOrderInvoiced(event_id=eid, order_id=ORDER, invoice_id=invoice_id)


def cancel(eid: str = "http-cancel", reason: str = "customer changed mind") -> CancelOrder:
    return CancelOrder(event_id=eid, order_id=ORDER, at=NOW, correlation_id="c", reason=reason)


def picked(wh: str, *lines: tuple[int, str, int, int], txn: str = "P-1") -> PickConfirmed:
    """A PickConfirm of (no, sku, requested, picked) lines."""
    return PickConfirmed(
        event_id=f"wms:{wh}:{txn}",
        order_id=ORDER,
        warehouse=wh,
        txn=txn,
        occurred_at=NOW,
        lines=tuple(PickLine(no, sku, requested, n) for no, sku, requested, n in lines),
    )


def shipped(
    wh: str, *lines: tuple[int, str, int], txn: str = "S-1", tracking: str | None = "1Z9"
) -> ShipConfirmed:
    """A ShipConfirm of (no, sku, qty) lines."""
    return ShipConfirmed(
        event_id=f"wms:{wh}:{txn}",
        order_id=ORDER,
        warehouse=wh,
        txn=txn,
        occurred_at=NOW,
        lines=tuple(NumberedLine(no, sku, qty) for no, sku, qty in lines),
        carrier="UPS",
        tracking=tracking,
    )


def step(order: Order | None, message: OrderInboxMessage, auto: bool = False) -> OrderApplied:
    """Deliver `message` at the order's next offset."""
    offset = 0 if order is None else order.last_offset + 1
    return apply(order, message, offset, NOW, auto)


def run_on(order: Order, *messages: OrderInboxMessage) -> Order:
    """`order` after delivering `messages` in turn."""
    for message in messages:
        order = step(order, message).order
    return order


def refused(order: Order, message: OrderInboxMessage) -> str:
    """The reason `message` is refused; the order passed in stays as it was."""
    before = order
    with pytest.raises(InvalidOrderTransition) as raised:
        step(order, message)
    assert order == before
    return raised.value.reason


def effects(result: OrderApplied) -> list[tuple[str, str]]:
    """Every command sent, as (type, event id)."""
    commands = (*result.stock_commands, *result.wms_commands)
    return [(type(c).__name__, c.event_id) for c in commands]


def run(*messages: OrderInboxMessage, auto: bool = False) -> Order:
    """The order after delivering `messages` in turn, each at the next offset."""
    order: Order | None = None
    for message in messages:
        order = step(order, message, auto).order
    assert order is not None
    return order


SUBMITTED = (submit(),)
RESERVED = (*SUBMITTED, reserved(1, "SKU-1", 2, EAST), reserved(2, "SKU-2", 3, WEST))
RELEASED = (*RESERVED, confirmed())
PICKED = (
    *RELEASED,
    picked(EAST, (1, "SKU-1", 2, 2)),
    picked(WEST, (2, "SKU-2", 3, 3), txn="P-2"),
)
SHIPPED = (*PICKED, shipped(EAST, (1, "SKU-1", 2)), shipped(WEST, (2, "SKU-2", 3), txn="S-2"))
HELD = (*RESERVED, credit_hold())
BACKORDERED = (submit(backorder="allow"), unreservable(1, "SKU-1", 2), unreservable(2, "SKU-2", 3))
MIXED = (submit(backorder="allow"), reserved(1, "SKU-1", 2, EAST), unreservable(2, "SKU-2", 3))
"""Message sequences that take the usual order to each status (MIXED: line 1 reserved at
DC-EAST, line 2 backordered)."""

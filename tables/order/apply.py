"""The order aggregate: one table value per order id and its pure transition `apply`.

Everything that changes an order arrives on the order inbox (`OrderInboxMessage`) and is
applied here exactly once (offset, then the event ids the order applied, kept as rows);
the agent stores the new value and publishes the effects.
Lifecycle (CONTRACT 5): SUBMITTED -> RESERVED |
BACKORDERED | REJECTED; RESERVED/BACKORDERED -> CREDIT_HOLD | CONFIRMED | REJECTED;
CREDIT_HOLD -> CONFIRMED | REJECTED; CONFIRMED -> RELEASED -> PICKED -> SHIPPED ->
INVOICED; any status before SHIPPED but REJECTED -> CANCELLED. Each status change is one
canonical event `{order}:v{version}` and one CRM `OrderStatusChanged` `{order}:v{version}:crm`;
so is each step that keeps the status (a short pick, a shipment, a backorder fill:
`tables.order.steps`), which adds no history entry.
Stock commands are `{order}:{line}:{step}` (reserve, release, allocate, short, deallocate,
`ship@{shipped so far}`); WMS commands `{order}:{release|cancel}:{warehouse}` with txn
`DG-{release|cancel}-{order}` (hashed past 64 characters).

Decisions where the contract is silent:
- ERP's OrderConfirmed / OrderCreditHold / OrderCreditReleased while reservation answers
  are still missing are parked (`Order.pending_decision`) and taken once the last answer
  arrives, as if they had come after it; a parked decision beats `auto` confirmation.
  A second confirm or hold while one is parked is refused ("decision_pending").
- OrderConfirmed on CREDIT_HOLD is refused: ERP lifts a hold with OrderCreditReleased.
  ERP's OrderRejected is accepted until the order is confirmed.
- With backorder=reject the order waits for every answer before it rejects, then
  releases what was reserved. An answer for a CANCELLED or REJECTED order is
  compensated: a LineReserved gets a ReleaseReservation at once. An answer whose SKU or
  quantity differs from its line is refused ("line_mismatch").
- A second answer for an answered line, a CancelOrder on a CANCELLED order and a
  SubmitOrder with the first one's digest change nothing and report `duplicate`.
- A wholly backordered order is CONFIRMED with nothing to release, and stays there.
- A LineTakenBack (a warehouse's shelf holds less than was reserved there) backorders the
  units of a fill not yet released and asks another warehouse for them
  (`tables.order.takeback`); a released fill is left to the warehouse's short pick.
- A pick must request what was released for the line and picks it once ("already_picked").
  A WMS may ship before it confirms the pick: a shipment draws on the line's remaining
  allocation, and a later pick must pick at least what shipped. The order becomes PICKED
  once no line waits for its pick (also when lines were shipped unpicked), and SHIPPED
  once every line is shipped or backordered and something was shipped: an order picked
  wholly short stays PICKED (and can be cancelled).
- A cancel after release is refused once anything shipped ("already_shipping"); on
  SHIPPED or INVOICED it is "already_shipped" (`cancel_refusal` tells the API up front).
- `status_reached` treats every final status (REJECTED, CANCELLED, INVOICED) as reaching
  any wanted status, since the order will not move again.
"""

import datetime as dt
from typing import assert_never

import msgspec
from msgspec.structs import replace

from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderInvoiced,
    ErpOrderRejected,
    OrderDecision,
)
from protocols.order_commands import CancelOrder, DecisionOverdue, SubmitOrder
from protocols.orders import OrderEvent, OrderStatusChanged
from protocols.reservations import (
    BackorderFilled,
    BackorderPromised,
    LineReserved,
    LineTakenBack,
    LineUnreservable,
    StockCommandMessage,
)
from protocols.topics import OrderInboxMessage
from protocols.wms_events import PickConfirmed, ShipConfirmed, WmsCommandMessage
from tables.order import backorders, close, deadline, erp, intake, takeback, warehouse
from tables.order.change import Change, crm_view
from tables.order.value import (
    OUTBOX_DEPTH,
    InvalidOrderTransition,
    Order,
    Outbox,
)

__all__ = ["OrderApplied", "apply"]


FollowUp = (
    CancelOrder
    | DecisionOverdue
    | LineReserved
    | LineUnreservable
    | BackorderFilled
    | BackorderPromised
    | LineTakenBack
    | OrderDecision
    | PickConfirmed
    | ShipConfirmed
)
"""Every inbox message but SubmitOrder: what an existing order receives."""


class OrderApplied(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of applying one message: the order afterwards and what to publish."""

    order: Order
    events: tuple[OrderEvent, ...] = ()  # for orders.events, in order
    status_changes: tuple[OrderStatusChanged, ...] = ()  # for crm.order-status, one per event
    stock_commands: tuple[StockCommandMessage, ...] = ()  # for the stock inbox, keyed by SKU
    wms_commands: tuple[WmsCommandMessage, ...] = ()  # for the deployment's wms-commands topic
    duplicate: bool = False  # nothing changed; anything above is a repeat of earlier sends


def apply(
    order: Order | None,
    message: OrderInboxMessage,
    offset: int | None,
    now: dt.datetime,
    auto_confirm: bool,
    *,
    seen: bool = False,
) -> OrderApplied:
    """Apply one inbox message exactly once; raise InvalidOrderTransition, recording nothing.

    `seen`: the order already applied this event id (an upstream re-send at a new offset).
    Only a Kafka redelivery (an offset already applied) sends again what the first delivery
    sent: a crash after the table write may have lost those sends, and the offset was not
    committed. An upstream re-send sends nothing: its first delivery's offset is committed
    only once everything it sent was acknowledged, or is delivered again itself.
    """
    if order is not None and order.has_applied(offset):
        return _again(order, message.event_id)
    # offset None is a replay from outside the inbox: only the event id dedupes it
    if order is not None and seen:
        return OrderApplied(order=order, duplicate=True)
    if order is not None and order.order_id != message.order_id:
        raise InvalidOrderTransition(
            "order_mismatch", f"message for {message.order_id!r} sent to {order.order_id!r}"
        )
    if isinstance(message, SubmitOrder):
        if order is None:
            return _applied(intake.open_order(message, now, auto_confirm), message, offset)
        intake.resubmit(order, message)
        return OrderApplied(order=order, duplicate=True)
    order = _existing(order, message)
    start = Change(order=order, causation_id=message.event_id, now=now, auto_confirm=auto_confirm)
    change = _transition(start, message)
    if change is None:
        return OrderApplied(order=order, duplicate=True)
    return _applied(change, message, offset)


def _applied(change: Change, message: OrderInboxMessage, offset: int | None) -> OrderApplied:
    """The outcome of a change: the order with the delivery and its sends remembered."""
    sent = Outbox(
        event_id=message.event_id,
        events=change.events,
        stock_commands=change.stock_commands,
        wms_commands=change.wms_commands,
    )
    return OrderApplied(
        order=replace(
            change.order,
            last_offset=change.order.last_offset if offset is None else offset,
            outbox=(*change.order.outbox, sent)[-OUTBOX_DEPTH:],
        ),
        events=change.events,
        status_changes=change.status_changes,
        stock_commands=change.stock_commands,
        wms_commands=change.wms_commands,
    )


def _again(order: Order, event_id: str) -> OrderApplied:
    """A repeated delivery: nothing changes, but what it sent is sent again (all idempotent)."""
    sent = order.sent_for(event_id)
    if sent is None:
        return OrderApplied(order=order, duplicate=True)
    return OrderApplied(
        order=order,
        events=sent.events,
        status_changes=tuple(crm_view(event) for event in sent.events),
        stock_commands=sent.stock_commands,
        wms_commands=sent.wms_commands,
        duplicate=True,
    )


def _existing(order: Order | None, message: FollowUp) -> Order:
    """The order a message other than SubmitOrder is about: it must exist."""
    if order is None:
        raise InvalidOrderTransition("unknown_order", f"no order {message.order_id}")
    return order


def _transition(change: Change, message: FollowUp) -> Change | None:
    """Dispatch to the rule for the message's type."""
    match message:
        case LineReserved() | LineUnreservable():
            return intake.answer(change, message)
        case BackorderFilled():
            return backorders.filled(change, message)
        case BackorderPromised():
            return backorders.promised(change, message)
        case LineTakenBack():
            return takeback.taken_back(change, message)
        case ErpOrderConfirmed() | ErpOrderCreditHold() | ErpOrderCreditReleased():
            return erp.decide(change, message)
        case ErpOrderRejected():
            return erp.reject(change, message)
        case ErpOrderInvoiced():
            return erp.invoice(change, message)
        case CancelOrder():
            return close.cancel(change, message)
        case DecisionOverdue():
            return deadline.time_out(change, message)
        case PickConfirmed():
            return warehouse.pick(change, message)
        case ShipConfirmed():
            return warehouse.ship(change, message)
        case _:
            assert_never(message)

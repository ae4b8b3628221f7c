"""Why an order was cancelled, kept with the order for `GET /v1/orders/{id}`."""

import datetime as dt

import msgspec
import pytest

from app.api.order_view import order_view
from protocols.orders import CancelReason, OrderStatus
from protocols.topics import OrderInboxMessage
from tables.order.deadline import overdue_notice
from tables.order.table import decode_order, encode_order
from tests.unit.test_orders_support import (
    EAST,
    MIXED,
    NOW,
    ORDER,
    PICKED,
    RESERVED,
    cancel,
    confirmed,
    erp_rejected,
    invoiced,
    picked,
    run,
    run_on,
    shipped,
    step,
)

S = OrderStatus
R = CancelReason
LATER = NOW + dt.timedelta(days=4)
TIMED_OUT = overdue_notice(run(*RESERVED), LATER)
# line 1 shipped from DC-EAST, line 2 still backordered
PARTLY_SHIPPED_WAITING = (
    *MIXED,
    confirmed(),
    picked(EAST, (1, "SKU-1", 2, 2)),
    shipped(EAST, (1, "SKU-1", 2)),
)


@pytest.mark.parametrize(
    ("state", "closing", "status", "reason"),
    [
        (RESERVED, cancel(), S.CANCELLED, R.CUSTOMER),
        ((*PICKED, shipped(EAST, (1, "SKU-1", 1))), cancel(), S.SHIPPED, R.CUSTOMER),
        (RESERVED, TIMED_OUT, S.CANCELLED, R.DECISION_TIMEOUT),
        (PARTLY_SHIPPED_WAITING, erp_rejected(), S.SHIPPED, R.REJECTED),
        (RESERVED, erp_rejected(), S.REJECTED, None),
    ],
    ids=["customer", "customer-remainder", "timeout", "rejected-remainder", "rejected-whole"],
)
def test_the_order_keeps_why_it_was_cancelled(
    state: tuple[OrderInboxMessage, ...],
    closing: OrderInboxMessage,
    status: OrderStatus,
    reason: CancelReason | None,
) -> None:
    # Given an order before anything cancelled it
    order = run(*state)
    assert order.cancel_reason is None
    # When it is cancelled, or rejected
    closed = step(order, closing).order
    # Then its status is what the contract says, and it says why, as GET shows it
    assert (closed.status, closed.cancel_reason) == (status, reason)
    body = msgspec.json.decode(msgspec.json.encode(order_view(closed, ORDER)))
    assert body.get("cancel_reason") == reason


def test_the_first_reason_stays_through_what_comes_after() -> None:
    # Given an order cancelled for want of an ERP decision
    order = run(*RESERVED, TIMED_OUT)
    # When the customer's cancel arrives after it
    order = run_on(order, cancel())
    # Then it was the timeout that cancelled it
    assert order.cancel_reason is R.DECISION_TIMEOUT
    # and a remainder cancelled by the customer stays theirs once ERP invoices
    shipped_part = run(*PICKED, shipped(EAST, (1, "SKU-1", 1)), cancel(), invoiced())
    assert (shipped_part.status, shipped_part.cancel_reason) == (S.INVOICED, R.CUSTOMER)


def test_the_stored_order_keeps_the_reason() -> None:
    order = run(*RESERVED, cancel())
    assert decode_order(encode_order(order)).cancel_reason is R.CUSTOMER


def test_an_order_stored_before_the_reason_reads_back_without_one() -> None:
    # Given a cancelled order stored by a release that had no cancel_reason field
    fields = msgspec.msgpack.decode(encode_order(run(*RESERVED, cancel())))
    del fields["cancel_reason"]
    raw = msgspec.msgpack.encode(fields)
    # Then it reads back cancelled, with no reason, and GET shows none
    order = decode_order(raw)
    assert (order.status, order.cancel_reason) == (S.CANCELLED, None)
    body = msgspec.json.decode(msgspec.json.encode(order_view(order, ORDER)))
    assert "cancel_reason" not in body

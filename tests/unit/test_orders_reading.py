"""Reading an order: dedupe of redeliveries, `status_reached`, the HTTP view, the stored form."""

import pytest
from msgspec.structs import replace

from app.api.order_view import order_view
from protocols.http import HistoryEntry
from protocols.orders import OrderStatus
from tables.order.apply import OrderApplied, apply
from tables.order.table import decode_order, encode_order
from tables.order.value import Order, cancel_refusal, status_reached
from tests.support.tables import OrderTable
from tests.unit.test_orders_support import (
    CORRELATION,
    CUSTOMER,
    EAST,
    NOW,
    ORDER,
    PICKED,
    RESERVED,
    SHIPPED,
    WEST,
    confirmed,
    picked,
    reserved,
    run,
    shipped,
    submit,
)

S = OrderStatus


# --- dedupe ------------------------------------------------------------------------------


def test_a_redelivered_offset_is_a_duplicate() -> None:
    order = run(submit())
    result = apply(order, reserved(1, "SKU-1", 2, EAST), order.last_offset, NOW, False)
    assert result.duplicate
    assert result.order is order


def test_a_resent_event_id_is_a_duplicate_however_many_messages_came_between() -> None:
    # Given a released order of 40 lines at DC-EAST, 2 units each
    lines = [(n, f"SKU-{n}", 2, EAST) for n in range(1, 41)]
    table = OrderTable(ORDER)
    table.send(submit(*lines), *(reserved(*line[:3], EAST) for line in lines), confirmed())
    # And 1 unit of line 1 shipped, then 39 other picks
    partial = shipped(EAST, (1, "SKU-1", 1), txn="S-0")
    table.send(partial)
    table.send(*(picked(EAST, (n, sku, 2, 2), txn=f"P-{n}") for n, sku, _, _ in lines[1:]))
    before = table.order
    # When the WMS sends the partial shipment again, at a new offset
    again = table.deliver(partial, table.next_offset)
    # Then it is a duplicate: line 1 has shipped 1, not 2
    assert isinstance(again, OrderApplied)
    assert again.duplicate
    assert table.order == before
    assert before is not None
    assert before.lines[0].shipped == 1


def test_a_replay_without_offset_dedupes_by_event_id_only() -> None:
    # Given a released order that shipped 1 of line 1's 2 units at some offset
    table = OrderTable(ORDER)
    partial = shipped(EAST, (1, "SKU-1", 1), txn="S-0")
    table.send(submit(), reserved(1, "SKU-1", 2, EAST), reserved(2, "SKU-2", 3, WEST))
    table.send(confirmed(), partial)
    last_offset = table.next_offset - 1
    # When dead letters are replayed from outside the inbox (no offset)
    replayed = table.deliver(partial, None)
    new = table.deliver(picked(EAST, (1, "SKU-1", 2, 2)), None)
    # Then the applied id is a duplicate, the new one applies, and the offset stays
    assert isinstance(replayed, OrderApplied)
    assert replayed.duplicate
    assert isinstance(new, OrderApplied)
    assert not new.duplicate
    order = table.order
    assert order is not None
    assert (order.lines[0].shipped, order.lines[0].picked) == (1, 2)
    assert order.last_offset == last_offset


# --- decisions for readers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "wanted", "reached"),
    [
        (S.SUBMITTED, S.SUBMITTED, True),
        (S.SUBMITTED, S.RESERVED, False),
        (S.RESERVED, S.BACKORDERED, True),
        (S.BACKORDERED, S.RESERVED, True),
        (S.RESERVED, S.CONFIRMED, False),
        (S.RELEASED, S.CONFIRMED, True),
        (S.CONFIRMED, S.CREDIT_HOLD, True),
        (S.PICKED, S.SHIPPED, False),
        (S.SHIPPED, S.SUBMITTED, True),
        (S.INVOICED, S.SHIPPED, True),
        (S.REJECTED, S.SHIPPED, True),
        (S.CANCELLED, S.INVOICED, True),
        (S.INVOICED, S.CANCELLED, True),
        (S.RELEASED, S.CANCELLED, False),
        (S.SUBMITTED, S.REJECTED, False),
    ],
)
def test_status_reached_follows_the_lifecycle(
    current: OrderStatus, wanted: OrderStatus, reached: bool
) -> None:
    assert status_reached(current, wanted) is reached


def test_cancel_refusal_names_what_the_aggregate_would_refuse() -> None:
    assert cancel_refusal(run(*RESERVED)) is None
    assert cancel_refusal(run(*SHIPPED)) == "already_shipped"


def test_the_view_is_the_http_body() -> None:
    order = run(*RESERVED)
    view = order_view(order, ORDER)
    assert (view.order_id, view.customer_id, view.channel, view.status, view.version) == (
        ORDER,
        CUSTOMER,
        "web",
        S.RESERVED,
        2,
    )
    assert view.lines == order.line_states()
    assert [(h.status, h.at, h.event_id) for h in view.history] == [
        (S.SUBMITTED, NOW, f"{ORDER}:v1"),
        (S.RESERVED, NOW, f"{ORDER}:v2"),
    ]
    assert view.correlation_id == CORRELATION


def test_the_view_lists_every_shipment_with_its_tracking() -> None:
    # Given an order shipped from both warehouses, under two tracking numbers
    order = run(
        *PICKED,
        shipped(EAST, (1, "SKU-1", 2), txn="S-1", tracking="1Z-EAST"),
        shipped(WEST, (2, "SKU-2", 3), txn="S-2", tracking="1Z-WEST"),
    )
    # Then GET shows both, each with its warehouse, carrier, tracking and lines
    assert [
        (s.warehouse, s.carrier, s.tracking, [(ln.line_no, ln.sku, ln.qty) for ln in s.lines])
        for s in order_view(order, ORDER).shipments
    ] == [
        (EAST, "UPS", "1Z-EAST", [(1, "SKU-1", 2)]),
        (WEST, "UPS", "1Z-WEST", [(2, "SKU-2", 3)]),
    ]
    # and the stored form keeps them
    assert decode_order(encode_order(order)).shipments == order.shipments


def test_an_order_stored_with_http_history_entries_reads_back() -> None:
    # Given an order stored when its history held the HTTP body's HistoryEntry
    order = run(*SHIPPED)
    old = replace(
        order, history=tuple(HistoryEntry(h.status, h.at, h.event_id) for h in order.history)
    )
    raw = encode_order(old)
    # Then it reads back as the same order, and is stored again byte for byte as it was
    assert decode_order(raw) == order
    assert encode_order(decode_order(raw)) == raw


def test_the_stored_form_reads_back_equal() -> None:
    order: Order = run(submit(), confirmed(), reserved(1, "SKU-1", 2, EAST))
    assert order.pending_decision is not None
    assert decode_order(encode_order(order)) == order
    shipped = run(*SHIPPED)
    assert decode_order(encode_order(shipped)) == shipped

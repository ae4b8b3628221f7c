"""Cancel in every state the contract names, and one order from submit to invoice."""

import pytest

from protocols.orders import LineStatus, OrderCancelled, OrderStatus
from protocols.reservations import Deallocate
from protocols.topics import OrderInboxMessage
from protocols.wms_events import CancelAtWarehouse
from tables.orders import Order
from tests.unit.test_orders_support import (
    BACKORDERED,
    EAST,
    MIXED,
    ORDER,
    PICKED,
    RELEASED,
    RESERVED,
    SHIPPED,
    SUBMITTED,
    WEST,
    backorder_filled,
    cancel,
    confirmed,
    credit_hold,
    effects,
    erp_rejected,
    invoiced,
    picked,
    refused,
    reserved,
    run,
    shipped,
    step,
    submit,
)

S = OrderStatus


# --- cancel ------------------------------------------------------------------------------


def _release(no: int) -> tuple[str, str]:
    return ("ReleaseReservation", f"{ORDER}:{no}:release")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (SUBMITTED, []),
        ((submit(), reserved(2, "SKU-2", 3, WEST)), [_release(2)]),
        (RESERVED, [_release(1), _release(2)]),
        (MIXED, [_release(1)]),
        (BACKORDERED, []),
        ((*RESERVED, credit_hold()), [_release(1), _release(2)]),
        ((*BACKORDERED, confirmed()), []),
    ],
    ids=["submitted", "half-answered", "reserved", "mixed", "backordered", "held", "confirmed"],
)
def test_cancel_before_release_gives_back_the_reservations(
    state: tuple[OrderInboxMessage, ...], expected: list[tuple[str, str]]
) -> None:
    order = run(*state)
    result = step(order, cancel())
    (event,) = result.events
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.version) == ("customer changed mind", order.version + 1)
    assert effects(result) == expected
    assert {(ln.status, ln.reserved) for ln in result.order.lines} == {(LineStatus.CANCELLED, 0)}
    assert result.order.status is S.CANCELLED


@pytest.mark.parametrize(
    ("state", "deallocated"),
    [
        (RELEASED, [1, 2]),
        (PICKED, [1, 2]),
        ((*RELEASED, picked(WEST, (2, "SKU-2", 3, 0))), [1]),
    ],
    ids=["released", "picked", "picked-short"],
)
def test_cancel_after_release_tells_each_warehouse_and_frees_the_allocations(
    state: tuple[OrderInboxMessage, ...], deallocated: list[int]
) -> None:
    result = step(run(*state), cancel())
    assert [type(e) for e in result.events] == [OrderCancelled]
    assert [(type(c), c.event_id, c.warehouse, c.txn) for c in result.wms_commands] == [
        (CancelAtWarehouse, f"{ORDER}:cancel:{EAST}", EAST, "DG-cancel-SO-1"),
        (CancelAtWarehouse, f"{ORDER}:cancel:{WEST}", WEST, "DG-cancel-SO-1"),
    ]
    assert [(type(c), c.line_no) for c in result.stock_commands] == [
        (Deallocate, no) for no in deallocated
    ]
    assert {(ln.status, ln.allocated) for ln in result.order.lines} == {(LineStatus.CANCELLED, 0)}


def test_cancel_after_release_skips_warehouses_without_released_lines() -> None:
    result = step(run(*MIXED, confirmed()), cancel())
    assert [c.warehouse for c in result.wms_commands] == [EAST]


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ((*PICKED, shipped(EAST, (1, "SKU-1", 1))), "already_shipping"),
        (SHIPPED, "already_shipped"),
        ((*SHIPPED, invoiced()), "already_shipped"),
        ((*RESERVED, erp_rejected()), "status_not_allowed"),
    ],
    ids=["shipping", "shipped", "invoiced", "rejected"],
)
def test_cancel_is_refused_once_shipping_started_or_the_order_was_rejected(
    state: tuple[OrderInboxMessage, ...], reason: str
) -> None:
    assert refused(run(*state), cancel()) == reason


def test_cancelling_a_cancelled_order_changes_nothing() -> None:
    order = run(*RESERVED, cancel())
    result = step(order, cancel(eid="http-cancel-2"))
    assert result.duplicate
    assert result.order is order


# --- end to end --------------------------------------------------------------------------


def test_submit_to_invoice_with_a_short_pick_filled_elsewhere() -> None:
    # Given the usual order, with every message the outside world would send, in turn:
    # DC-WEST picks line 2 one short, and DC-EAST has the unit
    journey: list[OrderInboxMessage] = [
        submit(),
        reserved(2, "SKU-2", 3, WEST),
        reserved(1, "SKU-1", 2, EAST),
        confirmed(),
        picked(EAST, (1, "SKU-1", 2, 2)),
        picked(WEST, (2, "SKU-2", 3, 2), txn="P-2"),
        backorder_filled(2, "SKU-2", 1, (EAST, 1)),
        shipped(WEST, (2, "SKU-2", 2)),
        picked(EAST, (2, "SKU-2", 1, 1), txn="P-3"),
        shipped(EAST, (1, "SKU-1", 2), (2, "SKU-2", 1), txn="S-2"),
        invoiced(),
    ]
    order: Order | None = None
    events, commands = [], []
    for message in journey:
        result = step(order, message)
        order = result.order
        events += [(type(e).__name__, e.version, e.causation_id) for e in result.events]
        commands += effects(result)
    # Then each change is one event, each caused by the message that made it
    assert events == [
        ("OrderSubmitted", 1, "http-1"),
        ("OrderReserved", 2, f"{ORDER}:1:reserve:answer"),
        ("OrderConfirmed", 3, "erp-confirm"),
        ("OrderReleased", 4, "erp-confirm"),
        ("OrderPicked", 5, "wms:DC-WEST:P-2"),
        ("OrderReleased", 6, f"{ORDER}:2:refill@1:answer"),
        ("OrderPartiallyShipped", 7, "wms:DC-WEST:S-1"),
        ("OrderShipped", 8, "wms:DC-EAST:S-2"),
        ("OrderInvoiced", 9, "erp-invoice"),
    ]
    # And the stock and the warehouses were told exactly this: the short unit is filled
    # again and released to DC-EAST with a Release of its own
    assert commands == [
        ("ReserveLine", f"{ORDER}:1:reserve"),
        ("ReserveLine", f"{ORDER}:2:reserve"),
        ("AllocateLine", f"{ORDER}:1:allocate"),
        ("AllocateLine", f"{ORDER}:2:allocate"),
        ("ReleaseToWarehouse", f"{ORDER}:release:{EAST}"),
        ("ReleaseToWarehouse", f"{ORDER}:release:{WEST}"),
        ("RecordShortPick", f"{ORDER}:2:short@1"),
        ("FillBackorder", f"{ORDER}:2:refill@1"),
        ("AllocateLine", f"{ORDER}:2:allocate@2"),
        ("ReleaseToWarehouse", f"{ORDER}:release2:{EAST}"),
        ("RecordShipment", f"{ORDER}:2:ship@2"),
        ("RecordShipment", f"{ORDER}:1:ship@2"),
        ("RecordShipment", f"{ORDER}:2:ship@3"),
    ]
    assert order is not None
    assert order.status is S.INVOICED
    assert [h.event_id for h in order.history] == [f"{ORDER}:v{n}" for n in range(1, 10)]
    assert [
        (ln.status, ln.reserved, ln.allocated, ln.picked, ln.shipped, ln.backordered)
        for ln in order.lines
    ] == [(LineStatus.SHIPPED, 0, 0, 2, 2, 0), (LineStatus.SHIPPED, 0, 0, 3, 3, 0)]
    assert order.last_offset == len(journey) - 1

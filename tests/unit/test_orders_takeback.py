"""Reservations a shelf took back: backordered, said why, and looked for elsewhere (12.5)."""

from protocols.orders import (
    OrderStatus,
    OrderStockTakenBack,
    OrderStockTakenBackOnHold,
    OrderStockTakenBackWholly,
)
from protocols.reservations import AllocateLine, Fill, FillBackorder, LineTakenBack
from tables.order.apply import apply
from tests.unit.test_orders_support import (
    CORRELATION,
    EAST,
    HELD,
    MIXED,
    NOW,
    ORDER,
    RELEASED,
    RESERVED,
    WEST,
    backorder_filled,
    confirmed,
    effects,
    run,
    step,
)

S = OrderStatus


def taken_back(
    no: int, sku: str, qty: int, wh: str = EAST, cause: str = "StockCounted"
) -> LineTakenBack:
    cause_id = f"wms:{wh}:C-1:{sku}"
    return LineTakenBack(
        event_id=f"{cause_id}:back:{ORDER}:{no}", order_id=ORDER, line_no=no, sku=sku, qty=qty,
        warehouse=wh, cause=cause, cause_id=cause_id,
    )  # fmt: skip


def test_a_reserved_line_taken_back_is_backordered_and_looked_for_elsewhere() -> None:
    # Given an order reserved 2 of SKU-1 at DC-EAST and 3 of SKU-2 at DC-WEST
    order = run(*RESERVED)
    # When a count at DC-EAST takes one of SKU-1 back
    result = step(order, taken_back(1, "SKU-1", 1))
    # Then line 1 holds 1, backorders 1, and the line equation holds
    line = result.order.lines[0]
    assert (line.reserved, line.backordered) == (1, 1)
    assert (
        line.reserved + line.allocated + line.shipped + line.backordered + line.cancelled
        == line.qty
    )
    # And an event says why, the order staying RESERVED (something is still reserved)
    (event,) = result.events
    assert isinstance(event, OrderStockTakenBack)
    assert (event.line_no, event.warehouse, event.qty, event.reason) == (1, EAST, 1, "count")
    assert result.order.status is S.RESERVED
    # And the unit is asked for elsewhere first (`short_at`: the warehouse that lost it)
    (fill,) = result.stock_commands
    assert isinstance(fill, FillBackorder)
    assert (fill.qty, fill.short_at, fill.warehouse, fill.submitted_at) == (1, EAST, None, NOW)
    assert fill.correlation_id == CORRELATION
    assert fill.event_id.startswith(f"{ORDER}:1:back@")


def test_an_order_left_with_nothing_reserved_is_backordered() -> None:
    order = run(*MIXED)  # line 1 reserved 2 at DC-EAST, line 2 backordered
    result = step(order, taken_back(1, "SKU-1", 2))
    (event,) = result.events
    assert isinstance(event, OrderStockTakenBackWholly)
    assert result.order.status is S.BACKORDERED
    assert [line.fills for line in result.order.lines] == [(), ()]
    assert [line.backordered for line in result.order.lines] == [2, 3]


def test_an_order_on_credit_hold_stays_on_hold() -> None:
    result = step(run(*HELD), taken_back(1, "SKU-1", 2, cause="StockAdjusted"))
    (event,) = result.events
    assert isinstance(event, OrderStockTakenBackOnHold)
    assert event.reason == "adjust"
    assert result.order.status is S.CREDIT_HOLD


def test_the_refill_answer_holds_the_units_again() -> None:
    order = run(*RESERVED, taken_back(1, "SKU-1", 2))
    (fill,) = step(run(*RESERVED), taken_back(1, "SKU-1", 2)).stock_commands
    answer = backorder_filled(1, "SKU-1", 2, ("DC-WEST", 2), eid=f"{fill.event_id}:answer")
    line = step(order, answer).order.lines[0]
    assert (line.reserved, line.backordered, [f.warehouse for f in line.fills]) == (
        2,
        0,
        ["DC-WEST"],
    )


def test_a_fill_already_released_is_left_to_the_warehouses_short_pick() -> None:
    # Given the order's fills went to the WMS (the take-back raced the release)
    order = run(*RELEASED)
    result = step(order, taken_back(1, "SKU-1", 2))
    # Then nothing changes here: the release allocates them at the stock side anyway,
    # and the WMS picks short what it does not find
    assert result.duplicate
    assert effects(result) == []
    assert result.order.lines == order.lines


def test_a_release_names_the_units_it_allocates_at_each_warehouse() -> None:
    # So that a reservation the shelf took back meanwhile is allocated all the same
    result = step(run(*RESERVED), confirmed())
    allocations = [c for c in result.stock_commands if isinstance(c, AllocateLine)]
    assert [(c.line_no, c.fills) for c in allocations] == [
        (1, (Fill(EAST, 2),)),
        (2, (Fill(WEST, 3),)),
    ]


def test_a_taken_back_answer_delivered_again_changes_nothing() -> None:
    order = run(*RESERVED, taken_back(1, "SKU-1", 1))
    again = apply(order, taken_back(1, "SKU-1", 1), order.last_offset, NOW, False)
    assert again.duplicate
    assert again.order.lines == order.lines

"""An order line served by several warehouses, with the rest backordered (issue 12.1)."""

import msgspec

from protocols.orders import LineFill, LineStatus, OrderStatus
from protocols.reservations import Fill, LineReserved, ReserveLine
from protocols.wms_events import CancelAtWarehouse, ReleaseToWarehouse
from tables.order.batch import decode_order, encode_order
from tables.order.value import Order, OrderLine
from tests.unit.test_orders_support import (
    EAST,
    ORDER,
    WEST,
    cancel,
    confirmed,
    erp_rejected,
    picked,
    refused,
    run,
    run_on,
    shipped,
    step,
    submit,
)

S = OrderStatus
SOUTH = "DC-SOUTH"


def filled(qty: int, *fills: tuple[str, int]) -> LineReserved:
    """The stock side's answer for line 1 (SKU-1): `fills` of `qty`, the rest backordered."""
    return LineReserved(
        event_id=f"{ORDER}:1:reserve:answer",
        order_id=ORDER,
        line_no=1,
        sku="SKU-1",
        qty=qty,
        warehouse=fills[0][0],
        fills=tuple(Fill(wh, n) for wh, n in fills),
    )


def one_line_order(qty: int = 10) -> Order:
    """A one-line order allowing backorders, 6 filled at DC-WEST and 2 at DC-EAST, 2 short."""
    return run(
        submit((1, "SKU-1", qty, None), backorder="allow"), filled(qty, (WEST, 6), (EAST, 2))
    )


def adds_up(line: OrderLine) -> bool:
    """The contract's line equation."""
    total = line.reserved + line.allocated + line.shipped + line.backordered + line.cancelled
    return total == line.qty


def test_a_line_allowing_backorders_asks_for_a_partial_fill() -> None:
    (command,) = step(None, submit((1, "SKU-1", 10, None), backorder="allow")).stock_commands
    assert isinstance(command, ReserveLine)
    assert command.partial
    (whole,) = step(None, submit((1, "SKU-1", 10, None))).stock_commands
    assert isinstance(whole, ReserveLine)
    assert not whole.partial


def test_each_warehouse_part_is_a_fill_and_the_rest_is_backordered() -> None:
    order = one_line_order()
    (line,) = order.lines
    assert order.status is S.RESERVED
    assert (line.reserved, line.backordered, line.status) == (8, 2, LineStatus.RESERVED)
    assert adds_up(line)
    state = line.state()
    assert state.warehouse == WEST
    assert state.fills == (
        LineFill(warehouse=WEST, reserved=6),
        LineFill(warehouse=EAST, reserved=2),
    )


def test_confirming_releases_each_fill_to_its_warehouse() -> None:
    result = step(one_line_order(), confirmed())
    releases = [c for c in result.wms_commands if isinstance(c, ReleaseToWarehouse)]
    assert [(r.warehouse, [(n.no, n.qty) for n in r.lines]) for r in releases] == [
        (EAST, [(1, 2)]),
        (WEST, [(1, 6)]),
    ]
    (line,) = result.order.lines
    assert (line.allocated, line.reserved, line.status) == (8, 0, LineStatus.RELEASED)
    assert result.order.status is S.RELEASED


def test_the_line_is_picked_when_every_warehouse_picked_it() -> None:
    order = run_on(one_line_order(), confirmed())
    order = step(order, picked(WEST, (1, "SKU-1", 6, 6))).order
    assert (order.status, order.lines[0].status) == (S.RELEASED, LineStatus.RELEASED)
    order = step(order, picked(EAST, (1, "SKU-1", 2, 1), txn="P-2")).order
    (line,) = order.lines
    assert (order.status, line.status, line.backordered, line.allocated) == (
        S.PICKED,
        LineStatus.PICKED,
        3,
        7,
    )
    order = step(order, shipped(WEST, (1, "SKU-1", 6))).order
    assert order.status is S.PARTIALLY_SHIPPED
    order = step(order, shipped(EAST, (1, "SKU-1", 1), txn="S-2")).order
    (line,) = order.lines
    # the short unit and the 2 never filled are still owed: the order is not shipped
    assert (order.status, line.shipped, line.backordered) == (S.PARTIALLY_SHIPPED, 7, 3)
    assert adds_up(line)


def test_a_shipment_from_a_warehouse_without_a_fill_is_refused() -> None:
    order = run_on(one_line_order(), confirmed())
    assert refused(order, shipped(SOUTH, (1, "SKU-1", 1))) == "wrong_warehouse"


def test_a_cancel_after_release_cancels_every_unshipped_unit_at_every_warehouse() -> None:
    result = step(run_on(one_line_order(), confirmed()), cancel())
    cancels = sorted(c.warehouse for c in result.wms_commands if isinstance(c, CancelAtWarehouse))
    assert cancels == [EAST, WEST]
    (line,) = result.order.lines
    assert (line.cancelled, line.backordered, line.allocated) == (10, 0, 0)
    assert adds_up(line)


def test_a_rejected_order_cancels_its_lines() -> None:
    (line,) = run_on(one_line_order(), erp_rejected()).lines
    assert (line.cancelled, line.reserved, line.backordered, line.fills) == (10, 0, 0, ())
    assert adds_up(line)


def test_an_order_stored_by_the_release_before_reads_with_one_fill_per_line() -> None:
    # Given a released line as the release before stored it: its figures on the line itself
    order = run_on(one_line_order(), confirmed())
    raw = msgspec.msgpack.decode(encode_order(order))
    raw["lines"] = [
        {
            "line_no": 1,
            "sku": "SKU-1",
            "qty": 10,
            "warehouse": WEST,
            "status": "PICKED",
            "allocated": 4,
            "picked": 4,
            "shipped": 0,
            "backordered": 6,
            "resolved": True,
            "released": 10,
        }
    ]
    # When it is read back
    (line,) = decode_order(msgspec.msgpack.encode(raw)).lines
    # Then it is served by its one warehouse, picked there, and adds up
    (fill,) = line.fills
    assert (fill.warehouse, fill.allocated, fill.picked, fill.released) == (WEST, 4, 4, 10)
    assert fill.pick_confirmed
    assert adds_up(line)


def test_a_shipped_order_of_the_release_before_gave_its_backordered_units_up() -> None:
    # Given a SHIPPED order as the release before stored it: 7 shipped, 3 backordered
    order = run_on(one_line_order(), confirmed())
    raw = msgspec.msgpack.decode(encode_order(order))
    raw["status"] = "SHIPPED"
    raw["lines"] = [
        {
            "line_no": 1,
            "sku": "SKU-1",
            "qty": 10,
            "warehouse": WEST,
            "status": "SHIPPED",
            "picked": 7,
            "shipped": 7,
            "backordered": 3,
            "resolved": True,
            "released": 8,
        }
    ]
    # When it is read back, Then the 3 are cancelled: nothing is open, as it was shipped
    (line,) = decode_order(msgspec.msgpack.encode(raw)).lines
    assert (line.shipped, line.backordered, line.cancelled, line.open) == (7, 0, 3, 0)
    assert adds_up(line)


def test_an_order_stored_by_this_release_reads_back_as_it_was_written() -> None:
    # Given a SHIPPED order of this release whose line still has units backordered (no rule
    # of this release leaves one so: the reading must not hide it if one ever did)
    order = run_on(one_line_order(), confirmed())
    (line,) = order.lines
    broken = msgspec.structs.replace(
        order,
        status=OrderStatus.SHIPPED,
        lines=(msgspec.structs.replace(line, backordered=3, cancelled=0),),
    )
    # When it is read back, Then it is exactly what was stored: nothing turned into cancelled
    assert decode_order(encode_order(broken)) == broken

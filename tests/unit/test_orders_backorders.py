"""Units picked short are backordered and filled again; partial shipments and invoices (12.3)."""

from protocols.orders import (
    FilledLine,
    FilledUnits,
    OrderAwaitingStock,
    OrderBackorderFilled,
    OrderPickedShort,
    OrderReleased,
    OrderStatus,
)
from protocols.reservations import AllocateLine, ReleaseReservation
from protocols.wms_events import ReleaseToWarehouse
from tables.order.value import Order
from tests.unit.test_orders_support import (
    EAST,
    MIXED,
    ORDER,
    RELEASED,
    WEST,
    backorder_filled,
    cancel,
    confirmed,
    effects,
    invoiced,
    picked,
    refused,
    run,
    run_on,
    shipped,
    step,
)

S = OrderStatus


def short_at_west() -> Order:
    """The usual order released, picked in full at DC-EAST and 2 of 3 short at DC-WEST."""
    return run(*RELEASED, picked(EAST, (1, "SKU-1", 2, 2)), picked(WEST, (2, "SKU-2", 3, 1)))


def test_a_fill_of_a_confirmed_order_is_released_at_once_with_a_release_of_its_own() -> None:
    # When the stock side fills the 2 short units at DC-WEST again
    result = step(short_at_west(), backorder_filled(2, "SKU-2", 2, (WEST, 2)))
    # Then they are allocated and released to DC-WEST under a new txn, and the order waits
    # for that pick again
    assert effects(result) == [
        ("AllocateLine", f"{ORDER}:2:allocate@2"),
        ("ReleaseToWarehouse", f"{ORDER}:release2:{WEST}"),
    ]
    (release,) = result.wms_commands
    assert isinstance(release, ReleaseToWarehouse)
    assert (release.txn, [(n.no, n.qty) for n in release.lines]) == (
        f"DG-release2-{ORDER}",
        [(2, 2)],
    )
    # and the fill is published before the release it caused
    fill, _ = result.events
    assert [type(e) for e in result.events] == [OrderBackorderFilled, OrderReleased]
    assert isinstance(fill, OrderBackorderFilled)
    assert (fill.line_no, fill.sku, fill.filled) == (2, "SKU-2", (FilledUnits(WEST, 2),))
    # and the CRM view names the line with each fill
    crm = result.status_changes[0]
    assert crm.filled == (FilledLine(line_no=2, sku="SKU-2", warehouse=WEST, qty=2),)
    line = result.order.lines[1]
    assert (line.backordered, line.allocated, len(line.fills)) == (0, 3, 2)


def test_the_second_release_is_picked_and_shipped_on_its_own() -> None:
    order = run_on(short_at_west(), backorder_filled(2, "SKU-2", 2, (WEST, 2)))
    order = run_on(
        order,
        shipped(EAST, (1, "SKU-1", 2)),
        picked(WEST, (2, "SKU-2", 2, 2), txn="P-3"),
        shipped(WEST, (2, "SKU-2", 3), txn="S-2"),
    )
    assert order.status is S.SHIPPED
    line = order.lines[1]
    assert (line.picked, line.shipped, line.open) == (3, 3, 0)


def test_a_fill_with_nothing_in_it_changes_nothing() -> None:
    order = short_at_west()
    result = step(order, backorder_filled(2, "SKU-2", 2))
    assert result.duplicate
    assert result.order == order


def test_a_fill_after_the_order_closed_is_given_back() -> None:
    order = run_on(short_at_west(), cancel())
    result = step(order, backorder_filled(2, "SKU-2", 2, (EAST, 2)))
    (command,) = result.stock_commands
    assert isinstance(command, ReleaseReservation)
    assert result.order.status is S.CANCELLED


def test_a_fill_of_more_than_is_backordered_is_refused() -> None:
    assert refused(short_at_west(), backorder_filled(2, "SKU-2", 2, (EAST, 3))) == "overfilled"


def test_an_order_picked_wholly_short_is_released_again_when_filled() -> None:
    order = run(*MIXED, confirmed())
    waiting = step(order, picked(EAST, (1, "SKU-1", 2, 0)))
    assert [type(e) for e in waiting.events] == [OrderPickedShort, OrderAwaitingStock]
    result = step(waiting.order, backorder_filled(1, "SKU-1", 2, (WEST, 2)))
    assert result.order.status is S.RELEASED
    assert [c.event_id for c in result.stock_commands if isinstance(c, AllocateLine)] == [
        f"{ORDER}:1:allocate@2"
    ]


def test_erp_may_invoice_each_shipment_and_the_order_is_invoiced_once_all_shipped() -> None:
    # Given the short-picked order shipped in part: 2 of line 1 and 1 of line 2
    order = run_on(short_at_west(), shipped(EAST, (1, "SKU-1", 2)), shipped(WEST, (2, "SKU-2", 1)))
    assert order.status is S.PARTIALLY_SHIPPED
    # When ERP invoices that shipment
    result = step(order, invoiced(eid="inv-1"))
    # Then it is recorded, and the order still waits for its backorder
    assert (result.events, result.order.status, result.order.invoiced) == (
        (),
        S.PARTIALLY_SHIPPED,
        3,
    )
    # And once the rest shipped and was invoiced too, it is INVOICED
    order = run_on(
        result.order,
        backorder_filled(2, "SKU-2", 2, (WEST, 2)),
        picked(WEST, (2, "SKU-2", 2, 2), txn="P-3"),
        shipped(WEST, (2, "SKU-2", 2), txn="S-3"),
    )
    assert order.status is S.SHIPPED
    assert run_on(order, invoiced(eid="inv-2")).status is S.INVOICED


def test_an_invoice_before_anything_shipped_is_refused() -> None:
    assert refused(run(*RELEASED), invoiced()) == "status_not_allowed"

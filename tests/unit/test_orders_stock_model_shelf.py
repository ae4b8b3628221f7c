"""The orders and stock model's warehouse: the facts it sends leave figures a WMS could hold."""

from tests.unit.test_orders_stock_model import OrdersAndStock


def test_writing_off_the_unit_on_hold_lifts_the_hold_while_a_picked_unit_waits() -> None:
    # Given 2 of SKU-1 at DC-A, one put on hold and the other picked for SO-2
    state = OrdersAndStock()
    state.open_the_shelves(qty=2)
    state.warehouse_or_erp_reports_stock(kind="hold", n=4, sku="SKU-1", wh="DC-A")
    state.submit(backorder="allow", lines=[("SKU-1", 1, "DC-A")], minutes=0)
    state.drain_the_bus()
    state.erp_decides(kind="confirm", likely=0, n=0)
    state.drain_the_bus()
    state.pick(n=0)
    state.drain_the_bus()
    # When the unit still on the shelf, the one on hold, is written off, and SO-2 ships
    state.warehouse_or_erp_reports_stock(kind="adjust", n=3, sku="SKU-1", wh="DC-A")
    state.drain_the_bus()
    place = ("SKU-1", "DC-A")
    assert (state.shelf.on_hand[place], state.shelf.blocked[place]) == (1, 0)
    state.a_drained_bus_leaves_both_sides_agreeing()
    state.ship(n=0)
    state.drain_the_bus()
    # Then the shelf and the stock side both hold nothing, nothing on hold
    assert (state.shelf.on_hand[place], state.shelf.blocked[place]) == (0, 0)
    state.a_drained_bus_leaves_both_sides_agreeing()

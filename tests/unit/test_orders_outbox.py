"""A Kafka redelivery re-sends what its first delivery sent (a crash may have lost it); an
upstream re-send sends nothing again."""

import msgspec

from tables.order.apply import OrderApplied, apply
from tables.order.table import decode_order
from tests.support.tables import OrderTable
from tests.unit.test_orders_support import (
    EAST,
    NOW,
    ORDER,
    PICKED,
    confirmed,
    run,
    shipped,
    submit,
)
from tests.unit.test_orders_support import RESERVED as RESERVED_STEPS


def test_a_redelivered_submit_sends_its_reservations_again() -> None:
    # Given an order whose SubmitOrder was applied at offset 5 (its ReserveLines possibly lost)
    message = submit()
    first = apply(None, message, 5, NOW, False)
    # When the same SubmitOrder is delivered again at offset 5 after a crash
    again = apply(first.order, message, 5, NOW, False)
    # Then nothing changes, and the same ReserveLine commands and events go out again
    assert again.duplicate
    assert again.order is first.order
    assert again.stock_commands == first.stock_commands
    assert again.events == first.events
    assert again.status_changes == first.status_changes  # rebuilt from the events
    assert len(again.stock_commands) == len(message.lines)


def test_a_redelivered_confirmation_sends_its_releases_again() -> None:
    # Given a reserved order that ERP confirmed (allocations and Releases sent)
    order = run(*RESERVED_STEPS)
    decision = confirmed()
    first = apply(order, decision, 100, NOW, False)
    assert first.wms_commands
    # When the confirmation is delivered again
    again = apply(first.order, decision, 100, NOW, False)
    # Then the same allocations and Releases go out again, with the same ids
    assert again.duplicate
    assert again.wms_commands == first.wms_commands
    assert again.stock_commands == first.stock_commands


def test_a_confirmation_the_wms_sends_again_publishes_nothing_again() -> None:
    # Given a picked order whose shipment was applied at offset 100, its events sent
    table = OrderTable(ORDER)
    table.send(*PICKED)
    ship = shipped(EAST, (1, "SKU-1", 2))
    first = table.send(ship)
    assert [type(e).__name__ for e in first.events] == [
        "OrderShipmentDispatched",
        "OrderPartiallyShipped",
    ]
    # When the WMS sends the same ShipConfirm again (a new offset: not a Kafka redelivery)
    again = table.deliver(ship, table.next_offset)
    # Then it is a duplicate that publishes no event and no command a second time
    assert isinstance(again, OrderApplied)
    assert again.duplicate
    assert (again.events, again.status_changes, again.stock_commands) == ((), (), ())


def test_an_outbox_stored_with_its_crm_views_reads_back_and_re_sends_them() -> None:
    # Given an order stored by the release before, whose outbox kept the CRM views too
    first = apply(None, submit(), 5, NOW, False)
    stored = msgspec.to_builtins(first.order)
    stored["outbox"][0]["status_changes"] = msgspec.to_builtins(first.status_changes)
    order = decode_order(msgspec.msgpack.encode(stored))
    # When its submit is delivered again, Then the same events and CRM views go out
    again = apply(order, submit(), 5, NOW, False)
    assert (again.events, again.status_changes) == (first.events, first.status_changes)

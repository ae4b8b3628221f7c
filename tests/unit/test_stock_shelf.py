"""What left the shelf, in the WMS's order: shipments and short picks beside counts (12.5)."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from protocols.inventory import StockCounted, StockHoldChanged, StockPickedShort, StockShipped
from protocols.reservations import Deallocate, RecordShipment, RecordShortPick
from protocols.topics import StockInboxMessage
from tables.stock.apply import Applied
from tables.stock.value import Position, Reservation, SkuStock
from tests.support.tables import StockTable

SKU, EAST = "SKU-1", "DC-EAST"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def allocated(order: str, qty: int, line: int = 1) -> Reservation:
    return Reservation(order, line, EAST, reserved=0, allocated=qty)


def at_east(on_hand: int, *holds: Reservation, reserved: int = 0) -> StockTable:
    """A SKU with `on_hand` in DC-EAST, held by `holds` (all allocated)."""
    position = Position(EAST, on_hand=on_hand, allocated=sum(h.allocated for h in holds))
    return StockTable.holding(SkuStock(SKU, (position,)), *holds)


def ship_line(order: str, qty: int, txn: str = "S-1", line: int = 1) -> StockShipped:
    return StockShipped(
        event_id=f"wms:{EAST}:{txn}:{line}", sku=SKU, warehouse=EAST, occurred_at=NOW,
        order_id=order, line_no=line, qty=qty,
    )  # fmt: skip


def short_line(order: str, short: int, txn: str = "P-1", line: int = 1) -> StockPickedShort:
    return StockPickedShort(
        event_id=f"wms:{EAST}:{txn}:{line}", sku=SKU, warehouse=EAST, occurred_at=NOW,
        order_id=order, line_no=line, short=short,
    )  # fmt: skip


def record_shipment(
    order: str, qty: int, txn: str = "S-1", after_cancel: bool = False
) -> RecordShipment:
    return RecordShipment(
        event_id=f"{order}:1:ship@{qty}", sku=SKU, order_id=order, line_no=1, qty=qty,
        warehouse=EAST, after_cancel=after_cancel, wms_id=f"wms:{EAST}:{txn}:1",
    )  # fmt: skip


def record_short(
    order: str, short: int, txn: str = "P-1", after_cancel: bool = False
) -> RecordShortPick:
    return RecordShortPick(
        event_id=f"{order}:1:short@1", sku=SKU, order_id=order, line_no=1, short=short,
        warehouse=EAST, after_cancel=after_cancel, wms_id=f"wms:{EAST}:{txn}:1",
    )  # fmt: skip


def count(on_hand: int, txn: str = "C-1") -> StockCounted:
    return StockCounted(
        event_id=f"wms:{EAST}:{txn}:{SKU}", sku=SKU, warehouse=EAST, occurred_at=NOW,
        on_hand=on_hand,
    )  # fmt: skip


def hold(delta: int, txn: str = "H-1") -> StockHoldChanged:
    return StockHoldChanged(
        event_id=f"wms:{EAST}:{txn}:{SKU}", sku=SKU, warehouse=EAST, occurred_at=NOW,
        delta=delta,
    )  # fmt: skip


def figures(table: StockTable) -> tuple[int, int, int]:
    position = table.stock.position(EAST)
    assert position is not None
    return position.on_hand, position.reserved, position.allocated


def test_a_count_sent_after_a_shipment_leaves_what_was_counted() -> None:
    # Given 10 on hand, 5 allocated to SO-1
    table = at_east(10, allocated("SO-1", 5))
    # When the WMS ships the 5 and then counts the 5 left, and only then does the order
    # side's RecordShipment for the same line arrive
    table.send(ship_line("SO-1", 5))
    table.send(count(5))
    late = table.send(record_shipment("SO-1", 5))
    # Then on hand is what was counted, the allocation is gone, and the command changed nothing
    assert figures(table) == (5, 0, 0)
    assert table.line("SO-1", 1) is None
    assert late.duplicate


def test_the_order_sides_shipment_first_makes_the_bridges_a_duplicate() -> None:
    # Given the order side's RecordShipment arrived before the bridge's own event (a retry)
    table = at_east(10, allocated("SO-1", 5))
    table.send(record_shipment("SO-1", 5))
    # When the bridge's StockShipped for the same WMS line comes
    again = table.send(ship_line("SO-1", 5))
    # Then the units left once
    assert again.duplicate
    assert figures(table) == (5, 0, 0)


@pytest.mark.parametrize("first", ["deallocate", "shipment"])
def test_a_shipment_racing_a_cancel_takes_the_units_off_once_either_way(first: str) -> None:
    # Given SO-1 allocated 5 of 10, cancelled after release, and its warehouse shipping anyway
    table = at_east(10, allocated("SO-1", 5))
    dealloc = Deallocate(event_id="SO-1:1:deallocate", sku=SKU, order_id="SO-1", line_no=1)
    order = [dealloc, ship_line("SO-1", 5)]
    # When the Deallocate and the shipment arrive in either order, then the late command
    for message in order if first == "deallocate" else order[::-1]:
        table.send(message)
    table.send(record_shipment("SO-1", 5, after_cancel=True))
    # Then 5 left on hand once and nothing stays allocated
    assert figures(table) == (5, 0, 0)


def test_short_units_a_count_already_found_missing_leave_on_hand_only_once() -> None:
    # Given SO-1 and SO-2 allocated 5 each of 10, released to the WMS
    table = at_east(10, allocated("SO-1", 5), allocated("SO-2", 5, line=1))
    # When a count finds 5, the WMS ships SO-1's 5 and picks SO-2 wholly short
    table.send(count(5))
    assert figures(table) == (5, 0, 10)  # the allocations stay with the WMS: 5 are missing
    table.send(ship_line("SO-1", 5))
    short = table.send(short_line("SO-2", 5))
    # Then nothing is negative, nothing is stuck, nothing was refused
    assert figures(table) == (0, 0, 0)
    assert isinstance(short, Applied)
    assert table.lines == ()


def test_short_units_no_count_found_missing_leave_on_hand() -> None:
    table = at_east(10, allocated("SO-1", 5))
    table.send(short_line("SO-1", 2))
    assert figures(table) == (8, 0, 3)
    table.send(record_short("SO-1", 2))  # the order side's, for the same WMS line
    assert figures(table) == (8, 0, 3)


@pytest.mark.parametrize("why", ["on hold", "counted missing"])
def test_short_units_of_a_line_holding_nothing_there_leave_on_hand_only_if_unexplained(
    why: str,
) -> None:
    # Given SO-1 and SO-2 allocated 1 each of 2, released; a hold or a count leaves the
    # shelf one unit short of them, and SO-2 is cancelled (its allocation freed)
    table = at_east(2, allocated("SO-1", 1), allocated("SO-2", 1, line=1))
    table.send(hold(1) if why == "on hold" else count(1))
    table.send(Deallocate(event_id="SO-2:1:deallocate", sku=SKU, order_id="SO-2", line_no=1))
    before = table.stock.position(EAST)
    # When the WMS, which picked before it read the Cancel, reports SO-2 wholly short
    table.send(short_line("SO-2", 1))
    table.send(record_short("SO-2", 1, after_cancel=True))
    # Then on hand and blocked stay: the hold or the count already explains the short unit
    assert table.stock.position(EAST) == before


def test_a_shipment_of_more_than_the_shelf_holds_is_refused() -> None:
    table = at_east(3, allocated("SO-1", 3))
    assert table.refused(ship_line("SO-1", 4)) == "negative_on_hand"


@pytest.mark.parametrize("redelivery", ["same offset", "new offset", "after the seen rows expired"])
def test_a_redelivered_shipment_applies_once(redelivery: str) -> None:
    table = at_east(10, allocated("SO-1", 4))
    message = ship_line("SO-1", 2)
    first = table.send(message)
    offset = table.stock.last_offset
    if redelivery == "after the seen rows expired":
        for key in [k for k in table.rows if b"|d|" in k]:
            del table.rows[key]
    again = table.deliver(message, offset if redelivery == "same offset" else offset + 1)
    # Then the units left once: the offset, the seen row or the line's hold remembers it
    assert isinstance(first, Applied)
    assert isinstance(again, Applied)
    assert figures(table) == (8, 0, 2)
    assert again.changes == ()


def test_a_shipment_of_a_line_holding_nothing_there_waits_for_the_order_side() -> None:
    # Given SO-1 cancelled after release (its allocation freed), and no SO-2 here at all
    table = at_east(10)
    # When the bridge's events for both come, Then nothing changes yet
    for order in ("SO-1", "SO-2"):
        outcome = table.send(ship_line(order, 3, txn=f"S-{order}"))
        assert (outcome.changes, outcome.unheld) == ((), True)
    assert figures(table) == (10, 0, 0)
    # When the order side, which knows SO-1 was released here, sends its late shipment
    table.send(record_shipment("SO-1", 3, txn="S-SO-1", after_cancel=True))
    # Then the units leave once, even if the bridge's event is delivered again
    table.send(ship_line("SO-1", 3, txn="S-SO-1"))
    assert figures(table) == (7, 0, 0)


# --- any WMS day: the stock side ends where the WMS's own order of messages leads ---------

ORDERS = ("SO-1", "SO-2", "SO-3")
Sent = list[StockCounted | StockShipped]


@st.composite
def wms_days(draw: st.DrawFn) -> tuple[int, dict[str, int], Sent]:
    """Opening stock, allocations, and the WMS's ships and counts in the order it sent them.

    Each shipment takes only what the shelf holds and the order still has allocated; a
    count sets the shelf to any figure (less than allocated, too).
    """
    allocation = {o: draw(st.integers(0, 6)) for o in ORDERS}
    shelf = sum(allocation.values()) + draw(st.integers(0, 5))
    opening, left, sent = shelf, dict(allocation), Sent()
    for n in range(draw(st.integers(1, 12))):
        shippable = [o for o in ORDERS if left[o] and shelf]
        if shippable and draw(st.booleans()):
            order = draw(st.sampled_from(shippable))
            qty = draw(st.integers(1, min(left[order], shelf)))
            left[order] -= qty
            shelf -= qty
            sent.append(ship_line(order, qty, txn=f"S-{n}"))
        else:
            shelf = draw(st.integers(0, shelf + 3))
            sent.append(count(shelf, txn=f"C-{n}"))
    return opening, allocation, sent


def truth(opening: int, sent: Sent) -> int:
    """On hand as the WMS's messages, taken in the order it sent them, leave it."""
    shelf = opening
    for message in sent:
        shelf = message.on_hand if isinstance(message, StockCounted) else shelf - message.qty
    return shelf


def the_order_sides(message: StockShipped) -> RecordShipment:
    """The order agent's RecordShipment for the same ShipConfirm line."""
    return replace(
        record_shipment(message.order_id, message.qty, txn=message.event_id.split(":")[2]),
        event_id=f"{message.order_id}:1:ship@{message.event_id}",
    )


@settings(max_examples=300, deadline=None)
@given(wms_days(), st.data())
def test_any_interleaving_and_redelivery_ends_as_the_wms_sent_it(
    day: tuple[int, dict[str, int], Sent], data: st.DataObject
) -> None:
    opening, allocation, sent = day
    # Given the bridge's records on the stock inbox in WMS order; each order-side command
    # lands after its shipment, or (a retry) just before it, never before an earlier record
    inbox: list[StockInboxMessage] = list(sent)
    for message in sent:
        if isinstance(message, StockShipped):
            at = inbox.index(message) + data.draw(st.sampled_from([0, 1]))
            at = data.draw(st.integers(at, len(inbox))) if at else at
            inbox.insert(at, the_order_sides(message))
    # And some records delivered again later (a WMS re-send, a replay)
    for _ in range(data.draw(st.integers(0, 4))):
        inbox.append(data.draw(st.sampled_from(inbox)))
    table = at_east(opening, *(allocated(o, n) for o, n in allocation.items() if n))
    # When the stock side takes them in that order, each refused one not at all
    for message in inbox:
        outcome = table.deliver(message, table.stock.last_offset + 1)
        assert isinstance(outcome, Applied), outcome
    # Then on hand is the WMS's, and what is allocated is what was not shipped
    shipped = sum(m.qty for m in sent if isinstance(m, StockShipped))
    assert figures(table) == (truth(opening, sent), 0, sum(allocation.values()) - shipped)

"""Order lines' commands on a SKU's stock, with numbers: holds, answers, idempotence, errors."""

import datetime as dt

import pytest
from msgspec.structs import replace

from protocols.inventory import StockAdjusted, StockChanged, StockReceived
from protocols.reservations import (
    AllocateLine,
    Deallocate,
    LineReserved,
    LineUnreservable,
    RecordShipment,
    RecordShortPick,
    ReleaseReservation,
    ReserveLine,
    StockCommandMessage,
)
from protocols.topics import StockInboxMessage
from tables.errors import InvalidStockChange
from tables.keys import seen_key
from tables.stock.apply import Applied, apply
from tables.stock.value import Position, Reservation, SkuStock
from tests.support.tables import StockTable

SKU = "SKU-1"
EAST, WEST = "DC-EAST", "DC-WEST"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
ORDER = "O-1"


def reserve(qty: int, wh: str | None = None, order: str = ORDER, line: int = 1) -> ReserveLine:
    return ReserveLine(
        event_id=f"{order}:{line}:reserve",
        sku=SKU,
        order_id=order,
        line_no=line,
        correlation_id="corr-7",
        qty=qty,
        warehouse=wh,
    )


def release(line: int = 1) -> ReleaseReservation:
    return ReleaseReservation(
        event_id=f"{ORDER}:{line}:release", sku=SKU, order_id=ORDER, line_no=line
    )


def allocate(line: int = 1) -> AllocateLine:
    return AllocateLine(event_id=f"{ORDER}:{line}:allocate", sku=SKU, order_id=ORDER, line_no=line)


def short_pick(short: int, step: str = "pick", line: int = 1) -> RecordShortPick:
    eid = f"{ORDER}:{line}:{step}"
    return RecordShortPick(event_id=eid, sku=SKU, order_id=ORDER, line_no=line, short=short)


def shipment(qty: int, step: str = "ship-1", line: int = 1) -> RecordShipment:
    eid = f"{ORDER}:{line}:{step}"
    return RecordShipment(event_id=eid, sku=SKU, order_id=ORDER, line_no=line, qty=qty)


def deallocate(line: int = 1) -> Deallocate:
    return Deallocate(event_id=f"{ORDER}:{line}:deallocate", sku=SKU, order_id=ORDER, line_no=line)


def received(qty: int, wh: str = EAST, eid: str = "r") -> StockReceived:
    return StockReceived(event_id=eid, sku=SKU, warehouse=wh, occurred_at=NOW, qty=qty)


def line(wh: str = EAST, reserved: int = 0, allocated: int = 0, n: int = 1) -> Reservation:
    return Reservation(ORDER, n, wh, reserved, allocated)


def stock_of(*positions: Position) -> SkuStock:
    return SkuStock(sku=SKU, positions=positions, last_offset=9, version=3)


def table_of(*positions: Position, holds: tuple[Reservation, ...] = ()) -> StockTable:
    """The SKU's rows: `positions` in its value, and a row per order line in `holds`."""
    return StockTable.holding(stock_of(*positions), *holds)


def unreservable(qty: int, atp: int) -> LineUnreservable:
    return LineUnreservable(
        event_id="O-1:1:reserve:answer",
        order_id=ORDER,
        line_no=1,
        sku=SKU,
        qty=qty,
        correlation_id="corr-7",
        atp=atp,
    )


def step(stock: SkuStock, message: StockInboxMessage, record: Reservation | None) -> Applied:
    """Apply `message` at the next offset, given the record of the order line it names."""
    holds = () if record is None else (record,)
    return apply(stock, message, stock.last_offset + 1, NOW, holds=holds)


def expired(table: StockTable, message: StockInboxMessage) -> Applied:
    """Send `message` again at a new offset, once the SKU's row of its id has expired."""
    table.rows.put(seen_key(SKU, message.event_id), None)
    return table.send(message)


def kind(value: object) -> str:
    """A test id: the string itself, or the message's type."""
    return value if isinstance(value, str) else type(value).__name__


def figures(table: StockTable) -> tuple[tuple[Position, ...], tuple[Reservation, ...]]:
    """What the SKU holds: its positions and its order lines' holds."""
    return table.stock.positions, table.lines


# --- ReserveLine ------------------------------------------------------------------------


def test_reserve_holds_the_qty_where_the_largest_atp_covers_it() -> None:
    # Given 8 free in DC-EAST and 12 in DC-WEST
    table = table_of(Position(EAST, on_hand=8), Position(WEST, on_hand=12))
    # When line 1 asks for 9 anywhere
    result = table.send(reserve(9))
    # Then DC-WEST holds 9 for the line, and the order is told so
    assert table.stock.position(WEST) == Position(WEST, on_hand=12, reserved=9)
    assert table.lines == (line(WEST, reserved=9),)
    assert result.answers == (
        LineReserved(
            event_id="O-1:1:reserve:answer",
            order_id=ORDER,
            line_no=1,
            sku=SKU,
            qty=9,
            correlation_id="corr-7",
            warehouse=WEST,
        ),
    )
    assert result.changes == (
        StockChanged(
            event_id=f"O-1:1:reserve:{WEST}",
            sku=SKU,
            warehouse=WEST,
            on_hand=12,
            blocked=0,
            reserved=9,
            allocated=0,
            safety_stock=0,
            atp=3,
            cause="ReserveLine",
            occurred_at=NOW,
        ),
    )


def test_reserve_in_the_asked_warehouse_only() -> None:
    stock = stock_of(Position(EAST, on_hand=8), Position(WEST, on_hand=12))
    result = step(stock, reserve(5, wh=EAST), None)
    assert result.stock.position(EAST) == Position(EAST, on_hand=8, reserved=5)
    assert isinstance(result.answers[0], LineReserved)
    assert result.answers[0].warehouse == EAST
    assert result.holds == (line(EAST, reserved=5),)


def test_reserve_counts_every_commitment_against_the_atp() -> None:
    # Given 20 on hand, 2 blocked, 3 reserved, 4 allocated and 5 safety stock: ATP 6
    east = Position(EAST, on_hand=20, blocked=2, reserved=3, allocated=4, safety_stock=5)
    stock = stock_of(east)
    # Then 7 cannot be reserved, 6 can
    assert step(stock, reserve(7), None).answers[0] == unreservable(7, atp=6)
    assert step(stock, reserve(6), None).stock.position(EAST) == replace(east, reserved=9)


@pytest.mark.parametrize(
    ("asked", "atp"), [(None, 8), (EAST, 4), (WEST, 8), ("DC-NORTH", 0)], ids=str
)
def test_unreservable_line_is_answered_with_the_best_atp_and_holds_nothing(
    asked: str | None, atp: int
) -> None:
    # Given 4 free in DC-EAST and 8 in DC-WEST
    table = table_of(Position(EAST, on_hand=4), Position(WEST, on_hand=8))
    before = figures(table)
    # When line 1 asks for 9
    result = table.deliver(reserve(9, wh=asked), 10)
    # Then it is unreservable, with the ATP it could have had, and no figure moved
    assert isinstance(result, Applied)
    assert result.answers == (unreservable(9, atp),)
    assert figures(table) == before
    assert result.changes == ()
    # and the command counts as applied
    assert table.stock.last_offset == 10
    assert table.has_seen("O-1:1:reserve")


def test_reserve_for_a_sku_never_seen_is_unreservable_with_atp_0() -> None:
    table = StockTable(SKU)
    result = table.send(reserve(1, wh=EAST))
    assert result.answers == (unreservable(1, 0),)
    assert figures(table) == ((), ())
    assert table.stock.version == 1


def test_lines_reserve_the_atp_down_to_zero_and_no_further() -> None:
    # Given 10 free in DC-EAST
    table = table_of(Position(EAST, on_hand=10))
    # When three lines ask for 4 each
    answers = [answer for n in (1, 2, 3) for answer in table.send(reserve(4, line=n)).answers]
    # Then two are held and the third is told only 2 are left
    assert [type(a).__name__ for a in answers] == ["LineReserved"] * 2 + ["LineUnreservable"]
    assert isinstance(answers[2], LineUnreservable)
    assert answers[2].atp == 2
    assert table.stock.position(EAST) == Position(EAST, on_hand=10, reserved=8)
    assert table.lines == (line(reserved=4, n=1), line(reserved=4, n=2))


def test_each_order_line_holds_its_own_row() -> None:
    table = table_of(Position(EAST, on_hand=50))
    for order, n in (("O-2", 1), ("O-1", 2), ("O-3", 1), ("O-1", 1)):
        table.send(reserve(1, order=order, line=n))
    assert [r.key for r in table.lines] == [("O-1", 1), ("O-1", 2), ("O-2", 1), ("O-3", 1)]
    assert table.line("O-1", 2) == line(reserved=1, n=2)
    assert table.line("O-1", 3) is None
    assert table.stock.position(EAST) == Position(EAST, on_hand=50, reserved=4)


def test_reserve_resent_with_a_fresh_id_answers_again_and_holds_once() -> None:
    # Given line 1 holds 6 in DC-EAST
    table = table_of(Position(EAST, on_hand=10))
    first = table.send(reserve(6))
    held = figures(table)
    # When the order side sends it again under a new event id
    again = table.send(replace(reserve(6), event_id="O-1:1:reserve-retry"))
    # Then the same answer (under the new id) and not one more unit held
    assert not again.duplicate
    assert figures(table) == held
    assert again.changes == ()
    assert again.answers == (replace(first.answers[0], event_id="O-1:1:reserve-retry:answer"),)


def test_reserve_resent_after_its_id_expired_holds_once() -> None:
    table = table_of(Position(EAST, on_hand=10))
    first = table.send(reserve(6))
    held = figures(table)
    again = expired(table, reserve(6))
    assert figures(table) == held
    assert again.answers == first.answers


def test_reserve_resent_after_the_line_was_allocated_still_says_reserved() -> None:
    table = table_of(Position(EAST, on_hand=10, allocated=6), holds=(line(allocated=6),))
    held = figures(table)
    again = expired(table, reserve(6))
    assert figures(table) == held
    assert isinstance(again.answers[0], LineReserved)


@pytest.mark.parametrize("offset", [10, 11])
def test_redelivered_reserve_is_a_duplicate_that_repeats_its_answer(offset: int) -> None:
    # Given line 1 reserved at offset 10, its answer lost in a crash
    table = table_of(Position(EAST, on_hand=10))
    first = table.deliver(reserve(6), 10)
    assert isinstance(first, Applied)
    # When the command comes again (same offset, or re-sent under its id)
    again = table.deliver(reserve(6), offset)
    # Then nothing is applied, but the same answer, with the same id, is there to send
    assert again == Applied(
        stock=first.stock, changes=(), duplicate=True, answers=first.answers, holds=first.holds
    )
    assert table.stock == first.stock


def test_redelivered_unreservable_reserve_repeats_unreservable() -> None:
    table = table_of(Position(EAST, on_hand=2))
    first = table.deliver(reserve(6), 10)
    again = table.deliver(reserve(6), 10)
    assert isinstance(first, Applied)
    assert isinstance(again, Applied)
    assert again.duplicate
    assert again.answers == first.answers == (unreservable(6, 2),)


def test_unreservable_line_is_reserved_when_resent_after_stock_arrived() -> None:
    table = table_of(Position(EAST, on_hand=2))
    table.send(reserve(6))
    table.send(received(4))
    result = table.send(replace(reserve(6), event_id="O-1:1:reserve-2"))
    assert isinstance(result.answers[0], LineReserved)
    assert table.lines == (line(reserved=6),)


# --- ReleaseReservation, AllocateLine, Deallocate ---------------------------------------


def test_release_gives_the_reserved_qty_back_and_drops_the_hold() -> None:
    stock = stock_of(Position(EAST, on_hand=10, reserved=7))
    result = step(stock, release(), line(reserved=6))
    assert result.stock.position(EAST) == Position(EAST, on_hand=10, reserved=1)
    assert result.holds == ()
    assert [(c.cause, c.reserved, c.atp) for c in result.changes] == [("ReleaseReservation", 1, 9)]
    assert result.answers == ()


def test_a_released_line_has_no_row_left() -> None:
    table = table_of(Position(EAST, on_hand=10, reserved=7), holds=(line(reserved=6),))
    table.send(release())
    assert table.lines == ()


def test_release_after_allocation_changes_nothing() -> None:
    stock = stock_of(Position(EAST, on_hand=10, allocated=6))
    result = step(stock, release(), line(allocated=6))
    assert (result.stock.positions, result.holds) == (stock.positions, (line(allocated=6),))
    assert result.changes == ()


def test_allocate_moves_the_reserved_qty_to_allocated() -> None:
    # Given line 1 holds 6 reserved in DC-EAST (8 reserved there in all)
    table = table_of(Position(EAST, on_hand=10, reserved=8), holds=(line(reserved=6),))
    # When the order is confirmed
    result = table.send(allocate())
    # Then the 6 are allocated instead, and ATP does not move
    east = Position(EAST, on_hand=10, reserved=2, allocated=6)
    assert table.stock.position(EAST) == east
    assert table.lines == (line(allocated=6),)
    assert [(c.cause, c.atp) for c in result.changes] == [("AllocateLine", 2)]


def test_deallocate_gives_back_allocated_and_reserved_and_drops_the_hold() -> None:
    east = Position(EAST, on_hand=10, reserved=3, allocated=7)
    table = table_of(east, holds=(line(reserved=2, allocated=5),))
    table.send(deallocate())
    assert table.stock.position(EAST) == Position(EAST, on_hand=10, reserved=1, allocated=2)
    assert table.lines == ()


@pytest.mark.parametrize("command", [release(), allocate(), deallocate()], ids=kind)
def test_line_commands_for_a_line_holding_nothing_are_applied_no_ops(
    command: StockCommandMessage,
) -> None:
    table = table_of(Position(EAST, on_hand=10, reserved=4), holds=(line(reserved=4, n=2),))
    before = figures(table)
    result = table.deliver(command, 10)
    assert isinstance(result, Applied)
    assert figures(table) == before
    assert (result.changes, result.answers, result.duplicate) == ((), (), False)
    assert table.stock.last_offset == 10


@pytest.mark.parametrize("command", [release(), allocate(), deallocate()], ids=kind)
def test_line_commands_resent_with_a_fresh_id_change_nothing_more(
    command: StockCommandMessage,
) -> None:
    east = Position(EAST, on_hand=10, reserved=4, allocated=3)
    table = table_of(east, holds=(line(reserved=4, allocated=3),))
    table.send(command)
    after_first = figures(table)
    again = table.send(replace(command, event_id="fresh"))
    assert figures(table) == after_first
    assert again.changes == ()


# --- RecordShortPick, RecordShipment ----------------------------------------------------


def test_short_pick_takes_the_short_qty_out_of_allocated_and_on_hand() -> None:
    # Given 30 on hand, 10 allocated to line 1
    stock = stock_of(Position(EAST, on_hand=30, allocated=10))
    # When the WMS picks 7: 3 short
    result = step(stock, short_pick(3), line(allocated=10))
    # Then 3 fewer are allocated and on hand; ATP is as before
    assert result.stock.position(EAST) == Position(EAST, on_hand=27, allocated=7)
    assert result.holds == (replace(line(allocated=7), steps=("O-1:1:pick",)),)
    assert [(c.cause, c.atp) for c in result.changes] == [("RecordShortPick", 20)]


def test_short_pick_of_the_whole_allocation_drops_the_hold() -> None:
    table = table_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    table.send(short_pick(10))
    assert table.stock.position(EAST) == Position(EAST, on_hand=20)
    assert table.lines == ()


def test_short_pick_lowers_blocked_stock_with_on_hand() -> None:
    east = Position(EAST, on_hand=10, blocked=9, allocated=4)
    result = step(stock_of(east), short_pick(3), line(allocated=4))
    assert result.stock.position(EAST) == Position(EAST, on_hand=7, blocked=7, allocated=1)


def test_shipments_take_the_qty_out_of_allocated_and_on_hand_until_the_hold_is_gone() -> None:
    # Given 10 allocated to line 1 out of 30 on hand
    table = table_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    # When 4 ship, then 6
    table.send(shipment(4, "ship-1"))
    part = figures(table)
    rest = table.send(shipment(6, "ship-2"))
    # Then 26 then 20 are on hand, and the line holds nothing at the end
    assert part == (
        (Position(EAST, on_hand=26, allocated=6),),
        (replace(line(allocated=6), steps=("O-1:1:ship-1",)),),
    )
    assert figures(table) == ((Position(EAST, on_hand=20),), ())
    assert [c.cause for c in rest.changes] == ["RecordShipment"]


@pytest.mark.parametrize("command", [short_pick(3), shipment(3)], ids=kind)
def test_delta_resent_under_its_id_applies_once_at_any_distance(
    command: StockCommandMessage,
) -> None:
    # Given line 1's short pick or shipment applied, then 100 other events on the SKU
    table = table_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    table.send(command)
    for n in range(100):
        table.send(received(1, wh=WEST, eid=f"r-{n}"))
    after_first = figures(table)
    # When it is re-sent under its id
    again = table.send(command)
    # Then it is a duplicate: the 3 left once
    assert again.duplicate
    assert figures(table) == after_first
    assert table.stock.position(EAST) == Position(EAST, on_hand=27, allocated=7)


@pytest.mark.parametrize("command", [short_pick(3), shipment(3)], ids=kind)
def test_delta_resent_after_its_id_expired_is_caught_by_its_line(
    command: StockCommandMessage,
) -> None:
    table = table_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    table.send(command)
    after_first = figures(table)
    again = expired(table, command)
    assert not again.duplicate
    assert figures(table) == after_first
    assert again.changes == ()


def test_a_second_shipment_under_a_new_id_is_another_shipment() -> None:
    table = table_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    table.send(shipment(3, "ship-1"))
    table.send(shipment(3, "ship-2"))
    assert table.stock.position(EAST) == Position(EAST, on_hand=24, allocated=4)


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (short_pick(5), "short_exceeds_allocation"),
        (shipment(5), "shipment_exceeds_allocation"),
        (shipment(4), "negative_on_hand"),
        (short_pick(4), "negative_on_hand"),
        (replace(shipment(1), line_no=2), "unknown_allocation"),
        (replace(short_pick(1), line_no=2), "unknown_allocation"),
    ],
    ids=kind,
)
def test_invalid_line_commands_are_refused_and_record_nothing(
    command: StockCommandMessage, reason: str
) -> None:
    # Given line 1 holds 2 reserved and 4 allocated, but only 3 are on hand
    east = Position(EAST, on_hand=3, reserved=2, allocated=4)
    table = table_of(east, holds=(line(reserved=2, allocated=4),))
    # When a short pick or shipment breaks a rule at offset 10
    # Then it is refused with its reason, no row changes, and offset 10 and the id stay free
    assert table.refused(command, 10) == reason
    restocked = table.deliver(received(5), 10)
    assert isinstance(restocked, Applied)
    assert not restocked.duplicate
    assert not table.has_seen(command.event_id)


def test_shipment_of_a_line_only_reserved_exceeds_its_allocation() -> None:
    stock = stock_of(Position(EAST, on_hand=10, reserved=4))
    with pytest.raises(InvalidStockChange) as raised:
        step(stock, shipment(1), line(reserved=4))
    assert raised.value.reason == "shipment_exceeds_allocation"


# --- the whole life of a line -----------------------------------------------------------


def test_a_line_from_reservation_to_shipment() -> None:
    table = table_of(Position(EAST, on_hand=20), Position(WEST, on_hand=5))
    for command in (reserve(8), allocate(), short_pick(2), shipment(6)):
        result = table.send(command)
        assert result.answers == () or isinstance(command, ReserveLine)
    assert figures(table) == ((Position(EAST, on_hand=12), Position(WEST, on_hand=5)), ())


def test_commands_for_another_sku_are_invalid() -> None:
    with pytest.raises(InvalidStockChange) as raised:
        step(SkuStock(sku="SKU-2"), reserve(1), None)
    assert raised.value.reason == "sku_mismatch"


def test_stock_messages_leave_the_holds_alone_while_the_shelf_holds_them() -> None:
    table = table_of(Position(EAST, on_hand=10, reserved=4), holds=(line(reserved=4),))
    adjusted = StockAdjusted(event_id="a", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=-6)
    result = table.send(adjusted)
    assert table.lines == (line(reserved=4),)
    assert table.stock.position(EAST) == Position(EAST, on_hand=4, reserved=4)
    assert result.answers == ()
    assert result.holds == ()

"""Order lines' commands on a SKU's stock, with numbers: holds, answers, idempotence, errors."""

import datetime as dt

import msgspec
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
from tables.errors import InvalidStockChange
from tables.stock import (
    DEDUPE_WINDOW,
    Applied,
    Position,
    Reservation,
    SkuStock,
    StockInboxMessage,
    apply,
)

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


def stock_of(*positions: Position, holds: tuple[Reservation, ...] = ()) -> SkuStock:
    return SkuStock(sku=SKU, positions=positions, last_offset=9, version=3, reservations=holds)


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


def step(stock: SkuStock, message: StockInboxMessage) -> Applied:
    """Deliver `message` at the next offset."""
    return apply(stock, message, stock.last_offset + 1, NOW)


def resent(stock: SkuStock, message: StockInboxMessage) -> Applied:
    """Deliver `message` again at a new offset, after the SKU's dedupe window forgot its id."""
    return step(replace(stock, recent_event_ids=()), message)


def kind(value: object) -> str:
    """A test id: the string itself, or the message's type."""
    return value if isinstance(value, str) else type(value).__name__


def figures(stock: SkuStock) -> tuple[tuple[Position, ...], tuple[Reservation, ...]]:
    return stock.positions, stock.reservations


# --- ReserveLine ------------------------------------------------------------------------


def test_reserve_holds_the_qty_where_the_largest_atp_covers_it() -> None:
    # Given 8 free in DC-EAST and 12 in DC-WEST
    stock = stock_of(Position(EAST, on_hand=8), Position(WEST, on_hand=12))
    # When line 1 asks for 9 anywhere
    result = step(stock, reserve(9))
    # Then DC-WEST holds 9 for the line, and the order is told so
    assert result.stock.position(WEST) == Position(WEST, on_hand=12, reserved=9)
    assert result.stock.reservations == (line(WEST, reserved=9),)
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
    result = step(stock, reserve(5, wh=EAST))
    assert result.stock.position(EAST) == Position(EAST, on_hand=8, reserved=5)
    assert isinstance(result.answers[0], LineReserved)
    assert result.answers[0].warehouse == EAST


def test_reserve_counts_every_commitment_against_the_atp() -> None:
    # Given 20 on hand, 2 blocked, 3 reserved, 4 allocated and 5 safety stock: ATP 6
    east = Position(EAST, on_hand=20, blocked=2, reserved=3, allocated=4, safety_stock=5)
    stock = stock_of(east)
    # Then 7 cannot be reserved, 6 can
    assert step(stock, reserve(7)).answers[0] == unreservable(7, atp=6)
    assert step(stock, reserve(6)).stock.position(EAST) == replace(east, reserved=9)


@pytest.mark.parametrize(
    ("asked", "atp"), [(None, 8), (EAST, 4), (WEST, 8), ("DC-NORTH", 0)], ids=str
)
def test_unreservable_line_is_answered_with_the_best_atp_and_holds_nothing(
    asked: str | None, atp: int
) -> None:
    # Given 4 free in DC-EAST and 8 in DC-WEST
    stock = stock_of(Position(EAST, on_hand=4), Position(WEST, on_hand=8))
    # When line 1 asks for 9
    result = apply(stock, reserve(9, wh=asked), 10, NOW)
    # Then it is unreservable, with the ATP it could have had, and no figure moved
    assert result.answers == (unreservable(9, atp),)
    assert figures(result.stock) == figures(stock)
    assert result.changes == ()
    # and the command counts as applied
    assert (result.stock.last_offset, result.stock.recent_event_ids) == (10, ("O-1:1:reserve",))


def test_reserve_for_a_sku_never_seen_is_unreservable_with_atp_0() -> None:
    result = step(SkuStock(sku=SKU), reserve(1, wh=EAST))
    assert result.answers == (unreservable(1, 0),)
    assert figures(result.stock) == ((), ())
    assert result.stock.version == 1


def test_lines_reserve_the_atp_down_to_zero_and_no_further() -> None:
    # Given 10 free in DC-EAST
    stock = stock_of(Position(EAST, on_hand=10))
    # When three lines ask for 4 each
    answers = []
    for n in (1, 2, 3):
        result = step(stock, reserve(4, line=n))
        stock, answers = result.stock, [*answers, *result.answers]
    # Then two are held and the third is told only 2 are left
    assert [type(a).__name__ for a in answers] == ["LineReserved"] * 2 + ["LineUnreservable"]
    assert isinstance(answers[2], LineUnreservable)
    assert answers[2].atp == 2
    assert stock.position(EAST) == Position(EAST, on_hand=10, reserved=8)
    assert stock.reservations == (line(reserved=4, n=1), line(reserved=4, n=2))


def test_holds_are_kept_in_order_and_line_order() -> None:
    stock = stock_of(Position(EAST, on_hand=50))
    for order, n in (("O-2", 1), ("O-1", 2), ("O-3", 1), ("O-1", 1)):
        stock = step(stock, reserve(1, order=order, line=n)).stock
    keys = [r.key for r in stock.reservations]
    assert keys == [("O-1", 1), ("O-1", 2), ("O-2", 1), ("O-3", 1)]
    assert stock.reservation("O-1", 2) == line(reserved=1, n=2)
    assert stock.reservation("O-1", 3) is None


def test_reserve_resent_with_a_fresh_id_answers_again_and_holds_once() -> None:
    # Given line 1 holds 6 in DC-EAST
    first = step(stock_of(Position(EAST, on_hand=10)), reserve(6))
    # When the order side sends it again under a new event id
    again = step(first.stock, replace(reserve(6), event_id="O-1:1:reserve-retry"))
    # Then the same answer (under the new id) and not one more unit held
    assert not again.duplicate
    assert figures(again.stock) == figures(first.stock)
    assert again.changes == ()
    assert again.answers == (replace(first.answers[0], event_id="O-1:1:reserve-retry:answer"),)


def test_reserve_resent_after_the_dedupe_window_holds_once() -> None:
    first = step(stock_of(Position(EAST, on_hand=10)), reserve(6))
    again = resent(first.stock, reserve(6))
    assert figures(again.stock) == figures(first.stock)
    assert again.answers == first.answers


def test_reserve_resent_after_the_line_was_allocated_still_says_reserved() -> None:
    stock = stock_of(Position(EAST, on_hand=10, allocated=6), holds=(line(allocated=6),))
    again = resent(stock, reserve(6))
    assert figures(again.stock) == figures(stock)
    assert isinstance(again.answers[0], LineReserved)


@pytest.mark.parametrize("offset", [10, 4])
def test_redelivered_reserve_is_a_duplicate_that_repeats_its_answer(offset: int) -> None:
    # Given line 1 reserved at offset 10, its answer lost in a crash
    first = apply(stock_of(Position(EAST, on_hand=10)), reserve(6), 10, NOW)
    # When the command comes again (same offset, or re-sent under its id)
    again = apply(first.stock, reserve(6), offset if offset == 10 else 11, NOW)
    # Then nothing is applied, but the same answer, with the same id, is there to send
    assert again == Applied(stock=first.stock, changes=(), duplicate=True, answers=first.answers)


def test_redelivered_unreservable_reserve_repeats_unreservable() -> None:
    first = apply(stock_of(Position(EAST, on_hand=2)), reserve(6), 10, NOW)
    again = apply(first.stock, reserve(6), 10, NOW)
    assert again.duplicate
    assert again.answers == first.answers == (unreservable(6, 2),)


def test_unreservable_line_is_reserved_when_resent_after_stock_arrived() -> None:
    stock = step(stock_of(Position(EAST, on_hand=2)), reserve(6)).stock
    stock = step(stock, received(4)).stock
    result = step(stock, replace(reserve(6), event_id="O-1:1:reserve-2"))
    assert isinstance(result.answers[0], LineReserved)
    assert result.stock.reservations == (line(reserved=6),)


# --- ReleaseReservation, AllocateLine, Deallocate ---------------------------------------


def test_release_gives_the_reserved_qty_back_and_drops_the_hold() -> None:
    stock = stock_of(Position(EAST, on_hand=10, reserved=7), holds=(line(reserved=6),))
    result = step(stock, release())
    assert result.stock.position(EAST) == Position(EAST, on_hand=10, reserved=1)
    assert result.stock.reservations == ()
    assert [(c.cause, c.reserved, c.atp) for c in result.changes] == [("ReleaseReservation", 1, 9)]
    assert result.answers == ()


def test_release_after_allocation_changes_nothing() -> None:
    stock = stock_of(Position(EAST, on_hand=10, allocated=6), holds=(line(allocated=6),))
    result = step(stock, release())
    assert figures(result.stock) == figures(stock)
    assert result.changes == ()


def test_allocate_moves_the_reserved_qty_to_allocated() -> None:
    # Given line 1 holds 6 reserved in DC-EAST (8 reserved there in all)
    stock = stock_of(Position(EAST, on_hand=10, reserved=8), holds=(line(reserved=6),))
    # When the order is confirmed
    result = step(stock, allocate())
    # Then the 6 are allocated instead, and ATP does not move
    east = Position(EAST, on_hand=10, reserved=2, allocated=6)
    assert result.stock.position(EAST) == east
    assert result.stock.reservations == (line(allocated=6),)
    assert [(c.cause, c.atp) for c in result.changes] == [("AllocateLine", 2)]


def test_deallocate_gives_back_allocated_and_reserved_and_drops_the_hold() -> None:
    east = Position(EAST, on_hand=10, reserved=3, allocated=7)
    stock = stock_of(east, holds=(line(reserved=2, allocated=5),))
    result = step(stock, deallocate())
    assert result.stock.position(EAST) == Position(EAST, on_hand=10, reserved=1, allocated=2)
    assert result.stock.reservations == ()


@pytest.mark.parametrize("command", [release(), allocate(), deallocate()], ids=kind)
def test_line_commands_for_a_line_holding_nothing_are_applied_no_ops(
    command: StockCommandMessage,
) -> None:
    stock = stock_of(Position(EAST, on_hand=10, reserved=4), holds=(line(reserved=4, n=2),))
    result = apply(stock, command, 10, NOW)
    assert figures(result.stock) == figures(stock)
    assert (result.changes, result.answers, result.duplicate) == ((), (), False)
    assert result.stock.last_offset == 10


@pytest.mark.parametrize("command", [release(), allocate(), deallocate()], ids=kind)
def test_line_commands_resent_with_a_fresh_id_change_nothing_more(
    command: StockCommandMessage,
) -> None:
    east = Position(EAST, on_hand=10, reserved=4, allocated=3)
    first = step(stock_of(east, holds=(line(reserved=4, allocated=3),)), command)
    again = step(first.stock, replace(command, event_id="fresh"))
    assert figures(again.stock) == figures(first.stock)
    assert again.changes == ()


# --- RecordShortPick, RecordShipment ----------------------------------------------------


def test_short_pick_takes_the_short_qty_out_of_allocated_and_on_hand() -> None:
    # Given 30 on hand, 10 allocated to line 1
    stock = stock_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    # When the WMS picks 7: 3 short
    result = step(stock, short_pick(3))
    # Then 3 fewer are allocated and on hand; ATP is as before
    assert result.stock.position(EAST) == Position(EAST, on_hand=27, allocated=7)
    assert result.stock.reservations == (replace(line(allocated=7), steps=("O-1:1:pick",)),)
    assert [(c.cause, c.atp) for c in result.changes] == [("RecordShortPick", 20)]


def test_short_pick_of_the_whole_allocation_drops_the_hold() -> None:
    stock = stock_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    result = step(stock, short_pick(10))
    assert result.stock.position(EAST) == Position(EAST, on_hand=20)
    assert result.stock.reservations == ()


def test_short_pick_lowers_blocked_stock_with_on_hand() -> None:
    east = Position(EAST, on_hand=10, blocked=9, allocated=4)
    result = step(stock_of(east, holds=(line(allocated=4),)), short_pick(3))
    assert result.stock.position(EAST) == Position(EAST, on_hand=7, blocked=7, allocated=1)


def test_shipments_take_the_qty_out_of_allocated_and_on_hand_until_the_hold_is_gone() -> None:
    # Given 10 allocated to line 1 out of 30 on hand
    stock = stock_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    # When 4 ship, then 6
    part = step(stock, shipment(4, "ship-1"))
    rest = step(part.stock, shipment(6, "ship-2"))
    # Then 26 then 20 are on hand, and the line holds nothing at the end
    assert part.stock.position(EAST) == Position(EAST, on_hand=26, allocated=6)
    assert part.stock.reservations == (replace(line(allocated=6), steps=("O-1:1:ship-1",)),)
    assert rest.stock.position(EAST) == Position(EAST, on_hand=20)
    assert rest.stock.reservations == ()
    assert [c.cause for c in rest.changes] == ["RecordShipment"]


@pytest.mark.parametrize("command", [short_pick(3), shipment(3)], ids=kind)
def test_delta_resent_under_its_id_after_the_dedupe_window_applies_once(
    command: StockCommandMessage,
) -> None:
    stock = stock_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    first = step(stock, command)
    for n in range(DEDUPE_WINDOW):
        first = step(first.stock, received(1, wh=WEST, eid=f"r-{n}"))
    assert command.event_id not in first.stock.recent_event_ids
    again = step(first.stock, command)
    assert not again.duplicate
    assert figures(again.stock) == figures(first.stock)
    assert again.changes == ()


def test_a_second_shipment_under_a_new_id_is_another_shipment() -> None:
    stock = stock_of(Position(EAST, on_hand=30, allocated=10), holds=(line(allocated=10),))
    once = step(stock, shipment(3, "ship-1")).stock
    twice = step(once, shipment(3, "ship-2")).stock
    assert twice.position(EAST) == Position(EAST, on_hand=24, allocated=4)


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
    stock = stock_of(east, holds=(line(reserved=2, allocated=4),))
    # When a short pick or shipment breaks a rule at offset 10
    with pytest.raises(InvalidStockChange) as raised:
        apply(stock, command, 10, NOW)
    # Then it is refused with its reason, and offset 10 and the event id stay free
    assert raised.value.reason == reason
    restocked = apply(stock, received(5), 10, NOW)
    assert not restocked.duplicate
    assert command.event_id not in restocked.stock.recent_event_ids


def test_shipment_of_a_line_only_reserved_exceeds_its_allocation() -> None:
    stock = stock_of(Position(EAST, on_hand=10, reserved=4), holds=(line(reserved=4),))
    with pytest.raises(InvalidStockChange) as raised:
        step(stock, shipment(1))
    assert raised.value.reason == "shipment_exceeds_allocation"


# --- the whole life of a line, and the value on the wire --------------------------------


def test_a_line_from_reservation_to_shipment() -> None:
    stock = stock_of(Position(EAST, on_hand=20), Position(WEST, on_hand=5))
    for command in (reserve(8), allocate(), short_pick(2), shipment(6)):
        result = step(stock, command)
        assert result.answers == () or isinstance(command, ReserveLine)
        stock = result.stock
    assert stock.positions == (Position(EAST, on_hand=12), Position(WEST, on_hand=5))
    assert stock.reservations == ()


def test_commands_for_another_sku_are_invalid() -> None:
    with pytest.raises(InvalidStockChange) as raised:
        step(SkuStock(sku="SKU-2"), reserve(1))
    assert raised.value.reason == "sku_mismatch"


def test_holds_round_trip_through_msgpack_and_old_values_decode_without_them() -> None:
    stock = stock_of(
        Position(EAST, on_hand=10, reserved=2, allocated=3),
        holds=(line(reserved=2, n=1), replace(line(allocated=3, n=2), steps=("s",))),
    )
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(stock), type=SkuStock) == stock
    old = msgspec.msgpack.encode({"sku": SKU, "positions": [], "version": 2})
    assert msgspec.msgpack.decode(old, type=SkuStock).reservations == ()


def test_stock_messages_leave_the_holds_alone() -> None:
    stock = stock_of(Position(EAST, on_hand=10, reserved=4), holds=(line(reserved=4),))
    adjusted = StockAdjusted(event_id="a", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=-9)
    result = step(stock, adjusted)
    assert result.stock.reservations == stock.reservations
    assert result.stock.position(EAST) == Position(EAST, on_hand=1, reserved=4)
    assert result.answers == ()

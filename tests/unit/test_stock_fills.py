"""A line takes what there is, from the largest ATP down: when it allows backorders (issue
12.1), and again for units picked short (12.3)."""

import msgspec

from protocols.reservations import (
    AllocateLine,
    BackorderFilled,
    Fill,
    FillBackorder,
    LineReserved,
    LineUnreservable,
    RecordShipment,
    ReleaseReservation,
    ReserveLine,
)
from tables.keys import line_key
from tables.stock.apply import Applied
from tables.stock.value import Position, Reservation, SkuStock
from tests.support.tables import StockTable

SKU = "SKU-1"
EAST, SOUTH, WEST = "DC-EAST", "DC-SOUTH", "DC-WEST"


def reserve(qty: int, wh: str | None = None, partial: bool = True) -> ReserveLine:
    return ReserveLine(
        event_id="O-1:1:reserve",
        sku=SKU,
        order_id="O-1",
        line_no=1,
        qty=qty,
        warehouse=wh,
        partial=partial,
    )


def table_of(*positions: Position) -> StockTable:
    return StockTable.holding(SkuStock(sku=SKU, positions=positions, last_offset=0))


def three_warehouses() -> StockTable:
    """ATP 4 in DC-EAST, 6 in DC-SOUTH, 4 in DC-WEST."""
    return table_of(
        Position(EAST, on_hand=4), Position(SOUTH, on_hand=6), Position(WEST, on_hand=4)
    )


def hold(wh: str, reserved: int = 0, allocated: int = 0) -> Reservation:
    return Reservation("O-1", 1, wh, reserved, allocated)


def test_a_partial_line_takes_the_largest_atp_then_the_next() -> None:
    # Given ATP 4, 6 and 4 in three warehouses
    table = three_warehouses()
    # When a line allowing backorders asks for 12 anywhere
    (answer,) = table.send(reserve(12)).answers
    # Then DC-SOUTH gives its 6, DC-EAST (tied with DC-WEST, the first code) 4, DC-WEST 2
    assert isinstance(answer, LineReserved)
    assert answer.fills == (Fill(SOUTH, 6), Fill(EAST, 4), Fill(WEST, 2))
    assert answer.warehouse == SOUTH
    assert table.holds("O-1", 1) == (hold(SOUTH, 6), hold(EAST, 4), hold(WEST, 2))
    assert [p.reserved for p in table.stock.positions] == [4, 6, 2]


def test_a_partial_line_leaves_what_nobody_has() -> None:
    table = three_warehouses()
    (answer,) = table.send(reserve(20)).answers
    # every unit of ATP is taken; the answer's fills leave 6 of 20 to be backordered
    assert isinstance(answer, LineReserved)
    assert sum(fill.qty for fill in answer.filled()) == 14
    assert all(p.atp == 0 for p in table.stock.positions)


def test_a_partial_line_asked_at_one_warehouse_takes_only_its_atp() -> None:
    table = three_warehouses()
    (answer,) = table.send(reserve(9, wh=WEST)).answers
    assert isinstance(answer, LineReserved)
    assert answer.fills == (Fill(WEST, 4),)
    assert table.holds("O-1", 1) == (hold(WEST, 4),)


def test_a_whole_line_still_comes_from_one_warehouse_or_none() -> None:
    # Given the same stock, a line that rejects backorders (all or nothing)
    table = three_warehouses()
    (answer,) = table.send(reserve(9, partial=False)).answers
    # Then nothing is reserved, though 14 are free across the warehouses
    assert isinstance(answer, LineUnreservable)
    assert answer.atp == 6
    assert table.lines == ()


def test_a_line_covered_by_one_warehouse_is_answered_as_before() -> None:
    table = three_warehouses()
    (answer,) = table.send(reserve(5)).answers
    assert isinstance(answer, LineReserved)
    assert (answer.warehouse, answer.fills, answer.filled()) == (SOUTH, (), (Fill(SOUTH, 5),))


def test_nothing_free_anywhere_is_unreservable() -> None:
    table = table_of(Position(EAST, on_hand=2, blocked=2))
    (answer,) = table.send(reserve(3)).answers
    assert isinstance(answer, LineUnreservable)


def test_release_allocate_and_ship_act_on_every_warehouse_of_the_line() -> None:
    # Given a line filled 6 in DC-SOUTH and 4 in DC-EAST
    table = three_warehouses()
    table.send(reserve(10))
    # When it is allocated, then DC-EAST ships its 4
    table.send(AllocateLine(event_id="O-1:1:allocate", sku=SKU, order_id="O-1", line_no=1))
    table.send(
        RecordShipment(
            event_id="O-1:1:ship@4", sku=SKU, order_id="O-1", line_no=1, qty=4, warehouse=EAST
        )
    )
    # Then DC-SOUTH still holds its 6 allocated, DC-EAST shipped its part and holds nothing
    assert table.holds("O-1", 1) == (hold(SOUTH, allocated=6),)
    assert table.stock.position(EAST) == Position(EAST, on_hand=0)
    assert table.stock.position(SOUTH) == Position(SOUTH, on_hand=6, allocated=6)


def test_a_release_gives_back_every_warehouse_part() -> None:
    table = three_warehouses()
    table.send(reserve(12))
    table.send(ReleaseReservation(event_id="O-1:1:release", sku=SKU, order_id="O-1", line_no=1))
    assert table.lines == ()
    assert all(p.reserved == 0 for p in table.stock.positions)


def test_a_line_row_of_the_release_before_is_read_as_its_one_hold() -> None:
    # Given a line's row as the release before stored it: one Reservation, not a list
    table = table_of(Position(EAST, on_hand=4, reserved=3))
    old = msgspec.msgpack.encode(hold(EAST, reserved=3))
    table.rows.put(line_key(SKU, ("O-1", 1)), old)
    # When it is allocated
    table.send(AllocateLine(event_id="O-1:1:allocate", sku=SKU, order_id="O-1", line_no=1))
    # Then its hold moved, and the row is in the new form
    assert table.holds("O-1", 1) == (hold(EAST, allocated=3),)
    assert table.stock.position(EAST) == Position(EAST, on_hand=4, allocated=3)


# --- FillBackorder: units picked short, filled again ---------------------------------------


def fill_backorder(
    qty: int, wh: str | None = None, n: int = 1, short_at: str | None = None
) -> FillBackorder:
    return FillBackorder(
        event_id=f"O-1:1:refill@{n}",
        sku=SKU,
        order_id="O-1",
        line_no=1,
        qty=qty,
        warehouse=wh,
        short_at=short_at,
    )


def test_a_short_picked_line_is_filled_again_beside_what_it_holds() -> None:
    # Given a line holding 6 allocated in DC-SOUTH; DC-SOUTH then has 0 free, the others 4
    table = three_warehouses()
    table.send(reserve(6))
    table.send(AllocateLine(event_id="O-1:1:allocate", sku=SKU, order_id="O-1", line_no=1))
    # When 5 of it are backordered again (picked short)
    (answer,) = table.send(fill_backorder(5)).answers
    # Then DC-EAST gives 4 and DC-WEST 1, held beside the allocation
    assert isinstance(answer, BackorderFilled)
    assert (answer.event_id, answer.qty, answer.fills) == (
        "O-1:1:refill@1:answer",
        5,
        (Fill(EAST, 4), Fill(WEST, 1)),
    )
    holds = table.holds("O-1", 1)
    assert [(h.warehouse, h.reserved, h.allocated) for h in holds] == [
        (SOUTH, 0, 6),
        (EAST, 4, 0),
        (WEST, 1, 0),
    ]


def test_a_fill_adds_to_the_hold_already_in_its_warehouse() -> None:
    table = table_of(Position(EAST, on_hand=10))
    table.send(reserve(3))
    table.send(fill_backorder(2))
    (hold_east,) = table.holds("O-1", 1)
    assert (hold_east.reserved, hold_east.filled) == (5, (("O-1:1:refill@1", 2),))


def test_nothing_free_answers_an_empty_fill() -> None:
    table = table_of(Position(EAST, on_hand=3))
    table.send(reserve(3))
    (answer,) = table.send(fill_backorder(2)).answers
    assert isinstance(answer, BackorderFilled)
    assert answer.fills == ()


def test_a_fill_asked_at_one_warehouse_takes_only_from_it() -> None:
    table = three_warehouses()
    (answer,) = table.send(fill_backorder(9, wh=WEST)).answers
    assert isinstance(answer, BackorderFilled)
    assert answer.fills == (Fill(WEST, 4),)


def test_a_fill_delivered_again_answers_what_it_held_and_holds_nothing_more() -> None:
    # Given a fill that held 4 in DC-EAST and 2 in DC-WEST (its answer may have been lost)
    table = three_warehouses()
    first = table.send(fill_backorder(12, n=3))
    before = table.stock
    # When it is delivered again (a re-send, at a new offset)
    again = table.deliver(fill_backorder(12, n=3), table.stock.last_offset + 1)
    # Then it changes nothing and repeats its answer
    assert isinstance(again, Applied)
    assert again.duplicate
    assert again.answers == first.answers
    assert table.stock.positions == before.positions


def test_the_warehouse_that_picked_short_gives_last() -> None:
    # Given DC-SOUTH has the most ATP but just did not find the units it was asked for
    table = three_warehouses()
    (answer,) = table.send(fill_backorder(5, short_at=SOUTH)).answers
    # Then the others fill them
    assert isinstance(answer, BackorderFilled)
    assert answer.fills == (Fill(EAST, 4), Fill(WEST, 1))


def test_what_the_others_cannot_fill_comes_from_where_it_went_missing() -> None:
    # Given ATP 4, 6 and 4; DC-SOUTH picked 12 short, its ATP counted after the short pick
    table = three_warehouses()
    (answer,) = table.send(fill_backorder(12, short_at=SOUTH)).answers
    # Then DC-EAST and DC-WEST give all they have, and DC-SOUTH the rest: nothing waits
    assert isinstance(answer, BackorderFilled)
    assert answer.fills == (Fill(EAST, 4), Fill(WEST, 4), Fill(SOUTH, 4))
    assert table.stock.queued == 0


def test_a_line_asked_at_one_warehouse_is_filled_there_after_a_short_pick() -> None:
    # Given a line that asked for DC-SOUTH only, picked 2 short there, with ATP 6 there
    table = three_warehouses()
    (answer,) = table.send(fill_backorder(2, wh=SOUTH, short_at=SOUTH)).answers
    # Then DC-SOUTH fills them at once, before any later order can take its units
    assert isinstance(answer, BackorderFilled)
    assert answer.fills == (Fill(SOUTH, 2),)

"""A shelf that holds less than is committed takes back the newest reservations (12.5)."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.inventory import StockAdjusted, StockCounted, StockHoldChanged
from protocols.reservations import AllocateLine, Fill, LineTakenBack
from tables.stock.apply import Applied
from tables.stock.reservations import apply_command
from tables.stock.takeback import REMEMBERED_CAUSES, over_committed, take_back
from tables.stock.value import Position, Reservation, SkuStock
from tests.support.tables import StockTable

SKU, EAST, WEST = "SKU-1", "DC-EAST", "DC-WEST"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def hold(
    order: str, minute: int, reserved: int = 0, allocated: int = 0, wh: str = EAST
) -> Reservation:
    """A line's hold of an order submitted `minute` minutes after NOW."""
    at = NOW + dt.timedelta(minutes=minute)
    return Reservation(order, 1, wh, reserved, allocated, submitted_at=at)


def table_with(on_hand: int, *holds: Reservation) -> StockTable:
    east = [h for h in holds if h.warehouse == EAST]
    position = Position(
        EAST,
        on_hand=on_hand,
        reserved=sum(h.reserved for h in east),
        allocated=sum(h.allocated for h in east),
    )
    return StockTable.holding(SkuStock(SKU, (position, Position(WEST, on_hand=9))), *holds)


def counted(on_hand: int) -> StockCounted:
    return StockCounted(
        event_id="wms:DC-EAST:C-1:SKU-1", sku=SKU, warehouse=EAST, occurred_at=NOW, on_hand=on_hand
    )


def test_a_count_below_what_is_reserved_takes_back_the_newest_orders_first() -> None:
    # Given 10 on hand reserved by SO-OLD (4), SO-MID (3) and SO-NEW (3), in submission order
    table = table_with(10, hold("SO-OLD", 0, 4), hold("SO-NEW", 20, 3), hold("SO-MID", 10, 3))
    # When a count finds 5
    result = table.send(counted(5))
    # Then SO-NEW gives all 3, SO-MID 2, and SO-OLD keeps its 4
    assert [(a.order_id, a.qty) for a in result.answers] == [("SO-NEW", 3), ("SO-MID", 2)]
    assert table.holds("SO-NEW", 1) == ()
    assert [h.reserved for h in table.holds("SO-MID", 1)] == [1]
    assert [h.reserved for h in table.holds("SO-OLD", 1)] == [4]
    assert table.stock.position(EAST) == Position(EAST, on_hand=5, reserved=5)
    # And each answer says why, with an id derived from the count's
    answer = result.answers[0]
    assert isinstance(answer, LineTakenBack)
    assert (answer.warehouse, answer.cause, answer.cause_id) == (
        EAST,
        "StockCounted",
        counted(5).event_id,
    )
    assert answer.event_id == "wms:DC-EAST:C-1:SKU-1:back:SO-NEW:1"
    # And the StockChanged published shows the position after the take-back
    (change,) = result.changes
    assert (change.on_hand, change.reserved, change.atp) == (5, 5, 0)


def test_allocations_stay_with_the_warehouse_and_only_reservations_give_way() -> None:
    # Given 10 on hand: 6 allocated to an older order, 4 reserved by a newer one
    table = table_with(10, hold("SO-1", 0, allocated=6), hold("SO-2", 5, reserved=4))
    # When an adjustment takes 7 away
    result = table.send(
        StockAdjusted(event_id="a", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=-7)
    )
    # Then all 4 reserved are taken back; the allocation stays (the WMS will pick short)
    assert [(a.order_id, a.qty) for a in result.answers] == [("SO-2", 4)]
    assert table.stock.position(EAST) == Position(EAST, on_hand=3, allocated=6)


def test_a_hold_blocking_reserved_stock_takes_it_back() -> None:
    table = table_with(10, hold("SO-1", 0, reserved=8))
    result = table.send(
        StockHoldChanged(event_id="h", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=5)
    )
    assert [(a.order_id, a.qty) for a in result.answers] == [("SO-1", 3)]
    assert table.stock.position(EAST) == Position(EAST, on_hand=10, blocked=5, reserved=5)


def test_other_warehouses_and_a_count_that_covers_everything_take_nothing_back() -> None:
    table = table_with(10, hold("SO-1", 0, reserved=4), hold("SO-2", 9, reserved=5, wh=WEST))
    result = table.send(counted(4))
    assert result.answers == ()
    assert [h.reserved for h in table.holds("SO-2", 1)] == [5]


def test_a_redelivered_count_takes_back_once_and_repeats_its_answers() -> None:
    # Given a count that took 4 back from SO-1
    table = table_with(10, hold("SO-1", 0, reserved=10))
    first = table.send(counted(6))
    offset = table.stock.last_offset
    # When it is delivered again (Kafka after a crash that may have lost the answer, then
    # the WMS re-sending it), Then nothing more is taken, and the same answer goes again
    for at in (offset, offset + 1):
        again = table.deliver(counted(6), at)
        assert isinstance(again, Applied)
        assert again.duplicate
        assert again.answers == first.answers
    assert table.stock.position(EAST) == Position(EAST, on_hand=6, reserved=6)


def test_only_the_last_few_take_backs_are_remembered() -> None:
    table = table_with(40, hold("SO-1", 0, reserved=40))
    for n in range(REMEMBERED_CAUSES + 2):
        table.send(
            StockAdjusted(event_id=f"a-{n}", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=-1)
        )
    causes = [a.cause_id for a in table.stock.taken_back]
    assert causes == [f"a-{n}" for n in range(2, REMEMBERED_CAUSES + 2)]


def test_a_hold_that_does_not_know_its_orders_submission_gives_way_last() -> None:
    unknown = Reservation("SO-0", 1, EAST, 3, 0)  # stored by the release before
    table = table_with(6, unknown, hold("SO-1", 0, reserved=3))
    result = table.send(counted(3))
    assert [a.order_id for a in result.answers] == ["SO-1"]


def allocate(order: str, qty: int, wh: str = EAST) -> AllocateLine:
    """The order's release of `qty` at `wh`, as its confirmation sends it."""
    return AllocateLine(
        event_id=f"{order}:1:allocate", sku=SKU, order_id=order, line_no=1, fills=(Fill(wh, qty),)
    )


def test_a_release_that_crossed_a_take_back_allocates_what_the_order_released() -> None:
    # Given SO-1 reserved 5, and a count finding 3 takes 2 back while ERP confirms SO-1:
    # the order released all 5 to the WMS before it read the take-back, so it ignores it
    table = table_with(5, hold("SO-1", 0, reserved=5))
    table.send(counted(3))
    # When the release's AllocateLine comes
    table.send(allocate("SO-1", 5))
    # Then the stock side holds what the order and the WMS were told: 5 allocated, the 2
    # beyond the shelf to be picked short, as any allocation a count found missing
    assert [(h.reserved, h.allocated) for h in table.holds("SO-1", 1)] == [(0, 5)]
    assert table.stock.position(EAST) == Position(EAST, on_hand=3, allocated=5)


def test_a_release_that_crossed_a_take_back_of_everything_allocates_it_all() -> None:
    table = table_with(5, hold("SO-1", 0, reserved=5))
    table.send(counted(0))  # the hold is gone
    table.send(allocate("SO-1", 5))
    assert [(h.reserved, h.allocated) for h in table.holds("SO-1", 1)] == [(0, 5)]
    assert table.stock.position(EAST) == Position(EAST, on_hand=0, allocated=5)


def test_a_release_beyond_the_shelf_takes_back_the_newest_reservation_left() -> None:
    # Given 10 on hand reserved by SO-OLD (5) and SO-NEW (5); a count finds 8 and takes 2
    # back from SO-NEW, whose release (all 5) was on its way
    table = table_with(10, hold("SO-OLD", 0, reserved=5), hold("SO-NEW", 10, reserved=5))
    table.send(counted(8))
    # When SO-NEW's release allocates its 5
    result = table.send(allocate("SO-NEW", 5))
    # Then the shelf's 8 cannot keep SO-OLD's 5 as well: 2 of them are taken back, so no
    # unit is promised twice
    assert [(a.order_id, a.qty, a.cause) for a in result.answers] == [("SO-OLD", 2, "AllocateLine")]
    assert table.stock.position(EAST) == Position(EAST, on_hand=8, reserved=3, allocated=5)


def test_a_release_allocates_only_what_it_names() -> None:
    # Given SO-1 holds 3 reserved and 2 more filled from the queue, that fill's answer on
    # its way to the order: the order releases the 3 it knows of
    table = table_with(5, hold("SO-1", 0, reserved=5))
    table.send(allocate("SO-1", 3))
    # Then the 2 stay reserved, for the release the fill's answer brings
    assert [(h.reserved, h.allocated) for h in table.holds("SO-1", 1)] == [(2, 3)]


def test_a_release_applied_again_after_the_dedupe_period_allocates_nothing_more() -> None:
    stock = SkuStock(SKU, (Position(EAST, on_hand=3, reserved=3),))
    first = apply_command(stock, (hold("SO-1", 0, reserved=3),), allocate("SO-1", 5))
    after = SkuStock(SKU, first.positions)
    again = apply_command(after, first.holds, allocate("SO-1", 5))
    assert again.holds == first.holds
    assert again.positions in ((), first.positions)


# --- the rule on its own, for any holds ----------------------------------------------------

holds_at_east = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 6), st.integers(0, 6)),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(holds_at_east, st.integers(0, 60), st.integers(0, 5))
def test_take_back_frees_exactly_the_excess_from_a_newest_suffix(
    drawn: list[tuple[int, int, int]], on_hand: int, blocked: int
) -> None:
    lines = [
        (hold(f"SO-{n}", minute, reserved, allocated),)
        for n, (minute, reserved, allocated) in enumerate(drawn)
        if reserved or allocated
    ]
    position = Position(
        EAST,
        on_hand=on_hand,
        blocked=min(blocked, on_hand),
        reserved=sum(h.reserved for (h,) in lines),
        allocated=sum(h.allocated for (h,) in lines),
    )
    outcome = take_back(position, lines, counted(on_hand))
    taken = {a.order_id: a.qty for a in outcome.answers}
    # exactly what does not fit, as far as reservations go; allocations untouched
    assert sum(taken.values()) == min(over_committed(position), position.reserved)
    assert outcome.position.allocated == position.allocated
    assert outcome.position.reserved == position.reserved - sum(taken.values())
    assert outcome.position.reserved == 0 or over_committed(outcome.position) == 0
    # every line that gave something is at least as new as every line that kept a reservation
    before = {h.order_id: h for (h,) in lines}
    kept = [
        before[h.order_id]
        for holds in [*outcome.lines.values(), *lines]
        for h in holds
        if h.reserved and h.order_id not in taken
    ]
    gave = [before[order] for order in taken]
    if kept and gave:
        assert min(h.submitted_at or NOW for h in gave) >= max(h.submitted_at or NOW for h in kept)
    # each changed line holds what it had less what it gave
    for (order, _), holds in outcome.lines.items():
        was = before[order]
        assert sum(h.reserved for h in holds) == was.reserved - taken[order]
        assert sum(h.allocated for h in holds) == was.allocated

"""A SKU's backorder queue as a row per waiting line: its order, what a message reads of it,
its promise dates against a full recompute, and a queue stored whole by the release before."""

import datetime as dt
from collections.abc import Iterator

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.erp import ExpectedReceipt, ExpectedReceiptCancelled, SafetyStockSet
from protocols.inventory import StockCounted, StockHoldChanged, StockReceived
from protocols.reservations import BackorderFilled, Fill, ReleaseReservation
from tables.keys import backorders_prefix, queue_key, value_key
from tables.stock.apply import Applied
from tables.stock.backorder_queue import Backorder, serve
from tables.stock.batch import encode_stock
from tables.stock.queue_rows import Sent, stored_queue
from tables.stock.value import IncomingSupply, Position, SkuStock
from tests.support.full_promise import full_promise
from tests.support.tables import NOW, DictRows, StockTable
from tests.unit.test_stock_backorder_queue import reserve

SKU = "SKU-1"
EAST, WEST = "DC-EAST", "DC-WEST"


class CountingRows(DictRows):
    """A partition that counts the reads and writes of the queue's line rows."""

    def __init__(self) -> None:
        super().__init__()
        self.line_reads = 0
        self.line_writes = 0

    def get(self, key: bytes, default: bytes | None = None) -> bytes | None:
        self.line_reads += _is_queue_line(key)
        return super().get(key, default)

    def put(self, key: bytes, value: bytes | None) -> None:
        self.line_writes += _is_queue_line(key)
        super().put(key, value)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for key, value in super().iter_prefix(prefix):
            self.line_reads += _is_queue_line(key)
            yield key, value


def _is_queue_line(key: bytes) -> bool:
    """A waiting line's row, or the row naming where it waits (not the head)."""
    return key.startswith((backorders_prefix(SKU), f"{SKU}|w|".encode()))


def received(qty: int, eid: str, wh: str = EAST) -> StockReceived:
    return StockReceived(event_id=eid, sku=SKU, warehouse=wh, occurred_at=NOW, qty=qty)


def expected(qty: int, days: int, po: str = "PO-1", wh: str = EAST) -> ExpectedReceipt:
    eta = NOW.date() + dt.timedelta(days=days)
    return ExpectedReceipt(
        event_id=f"erp-{po}-{qty}-{days}", po_id=po, sku=SKU, warehouse=wh, qty=qty, eta=eta
    )


def a_queue(lines: int, rows: DictRows | None = None, po: int = 0) -> StockTable:
    """Nothing free in DC-EAST, a PO of `po` units (none: 0) and `lines` orders of 2 waiting."""
    table = StockTable(SKU, rows=rows)
    table.send(received(1, "r-0"))
    table.send(StockHoldChanged(event_id="held", sku=SKU, warehouse=EAST, occurred_at=NOW, delta=1))
    if po:
        table.send(expected(po, days=7))
    for n in range(lines):
        table.send(reserve(f"SO-{n}", 2, at=n))
    assert table.stock.queued == 2 * lines
    return table


# -- what a message reads ---------------------------------------------------------------------


def test_serving_stops_once_the_risen_atp_is_used_up() -> None:
    # Given 1 unit free and a queue of 100 entries, read one by one
    stock = SkuStock(SKU, positions=(Position(EAST, on_hand=1),))
    pulled: list[Backorder] = []

    def entries() -> Iterator[Backorder]:
        for n in range(100):
            entry = Backorder(NOW + dt.timedelta(seconds=n), f"SO-{n}", 1, qty=1)
            pulled.append(entry)
            yield entry

    # When the queue is served from DC-EAST
    served = serve(stock, entries(), [EAST], {None: 100})
    # Then the oldest entry took the unit, and no entry after it was read
    assert [f.line for f in served.fills] == [("SO-0", 1)]
    assert len(pulled) == 1


def test_a_receipt_reads_only_the_lines_it_fills() -> None:
    # Given 100 lines waiting, no PO (so no date to move)
    rows = CountingRows()
    table = a_queue(100, rows)
    rows.line_reads = rows.line_writes = 0
    # When 3 units arrive
    applied = table.send(received(3, "r-1"))
    # Then the oldest line is filled and the next one in part: two lines read and written
    assert [
        (a.order_id, a.fills[0].qty) for a in applied.answers if isinstance(a, BackorderFilled)
    ] == [
        ("SO-0", 2),
        ("SO-1", 1),
    ]
    assert rows.line_reads == 2 + 2  # and, to write them, where each of the two waited
    assert rows.line_writes == 3  # SO-0's line and where it waited deleted, SO-1's rewritten
    assert [(b.order_id, b.qty) for b in stored_queue(rows, SKU)[:2]] == [("SO-1", 1), ("SO-2", 2)]


def test_stock_freed_where_no_waiting_line_may_take_it_reads_no_line() -> None:
    # Given 50 lines waiting for DC-EAST only, and stock in DC-WEST
    rows = CountingRows()
    table = a_queue(0, rows)
    table.send(received(5, "r-west", wh=WEST))
    for n in range(50):
        table.send(reserve(f"SO-{n}", 1, at=n, wh=EAST))
    table.send(reserve("SO-WEST", 2, at=99, wh=WEST))
    rows.line_reads = 0
    # When DC-WEST's reservation is released, raising its ATP
    table.send(ReleaseReservation(event_id="rel", sku=SKU, order_id="SO-WEST", line_no=1))
    # Then no waiting line was read: none of them may take from DC-WEST
    assert table.stock.position(WEST) == Position(WEST, on_hand=5)
    assert rows.line_reads == 1  # the release asked where its own line waits
    assert len(stored_queue(rows, SKU)) == 50


def test_serving_stops_when_no_line_left_may_take_what_is_left() -> None:
    # Given 3 units free in DC-EAST, the oldest line asking for DC-WEST, the next for any,
    # then 100 lines for DC-WEST
    stock = SkuStock(SKU, positions=(Position(EAST, on_hand=3),))
    queue = [
        Backorder(NOW, "SO-W", 1, qty=1, warehouse=WEST),
        Backorder(NOW, "SO-ANY", 1, qty=1),
        *(Backorder(NOW, f"SO-{n:03d}", 1, qty=1, warehouse=WEST) for n in range(100)),
    ]
    pulled: list[Backorder] = []

    def entries() -> Iterator[Backorder]:
        for entry in queue:
            pulled.append(entry)
            yield entry

    # When DC-EAST's 3 units serve the queue
    served = serve(stock, entries(), [EAST], {WEST: 101, None: 1})
    # Then the line for any warehouse takes one, and no line after it is read
    assert [f.line for f in served.fills] == [("SO-ANY", 1)]
    assert len(pulled) == 2


def test_a_message_that_changes_nothing_the_dates_depend_on_reads_no_line() -> None:
    # Given 100 lines waiting behind a PO that dates the first 25
    rows = CountingRows()
    table = a_queue(100, rows, po=50)
    head = rows[queue_key(SKU)]
    rows.line_reads = rows.line_writes = 0
    # When a count finds what the books say, a hold of nothing in DC-WEST arrives, and an
    # order line that does not wait is released
    table.send(StockCounted(event_id="c", sku=SKU, warehouse=EAST, occurred_at=NOW, on_hand=1))
    table.send(StockHoldChanged(event_id="h", sku=SKU, warehouse=WEST, occurred_at=NOW, delta=0))
    table.send(ReleaseReservation(event_id="x", sku=SKU, order_id="NOT-WAITING", line_no=1))
    # Then no line was read or written, and neither was the head
    assert (rows.line_reads, rows.line_writes) == (1, 0)  # the release asked where its line waits
    assert rows[queue_key(SKU)] == head


def test_a_new_po_dates_the_lines_again() -> None:
    # Given 10 lines waiting and no PO
    rows = CountingRows()
    table = a_queue(10, rows)
    rows.line_reads = 0
    # When a PO of 6 is expected
    applied = table.send(expected(6, days=3))
    # Then the first three lines are promised its date, and only they are read (once to
    # date them, once to find where each waits as it is written again)
    assert rows.line_reads == 3 + 3
    dated = {b.order_id: b.promise_date for b in stored_queue(rows, SKU)}
    assert [o for o, d in dated.items() if d is not None] == ["SO-0", "SO-1", "SO-2"]
    assert len(applied.answers) == 3
    assert table.stock.positions[0].incoming[0].promised == 6


# -- dates against a full recompute -----------------------------------------------------------

_steps = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(1, 4), st.sampled_from([None, EAST, WEST])),
        st.tuples(st.just("receive"), st.integers(1, 5), st.sampled_from([EAST, WEST])),
        st.tuples(st.just("count"), st.integers(0, 6), st.sampled_from([EAST, WEST])),
        st.tuples(st.just("expect"), st.integers(1, 8), st.sampled_from(["PO-1", "PO-2", "PO-3"])),
        st.tuples(st.just("cancel_po"), st.integers(0, 0), st.sampled_from(["PO-1", "PO-2"])),
        st.tuples(st.just("release"), st.integers(0, 30), st.just(None)),
        st.tuples(st.just("safety"), st.integers(0, 6), st.sampled_from([EAST, WEST])),
        st.tuples(st.just("nothing"), st.integers(0, 0), st.just(None)),
        st.tuples(st.just("next_day"), st.integers(0, 0), st.just(None)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(_steps)
def test_dates_and_shares_are_those_of_a_full_recompute(
    steps: list[tuple[str, int, str | None]],
) -> None:
    # Given a SKU in two warehouses, and any run of orders, receipts, counts, POs and days
    rows = DictRows()
    day = 0
    for n, (kind, qty, where) in enumerate(steps):
        table = StockTable(SKU, now=NOW + dt.timedelta(days=day), rows=rows)
        message = _message(n, kind, qty, where, day)
        if message is None:
            day += 1
            continue
        table.send(message)
        # Then after each step the stored dates and each PO's promised share are what
        # promising every receipt to the whole queue again gives
        queue = stored_queue(rows, SKU)
        stock = table.stock
        dates, shares = full_promise(stock, queue, (NOW + dt.timedelta(days=day)).date())
        assert [b.promise_date for b in queue] == dates
        assert {
            (p.warehouse, s.po_id): s.promised for p in stock.positions for s in p.incoming
        } == shares
        assert stock.queued == sum(b.qty for b in queue)


def _message(n: int, kind: str, qty: int, where: str | None, day: int) -> msgspec.Struct | None:
    """The n-th step's message (None: the day moves on)."""
    at = NOW + dt.timedelta(days=day)
    match kind:
        case "reserve":
            return reserve(f"SO-{n}", qty, at=n, wh=where)
        case "receive":
            return StockReceived(
                event_id=f"r-{n}", sku=SKU, warehouse=where or EAST, occurred_at=at, qty=qty
            )
        case "count":
            return StockCounted(
                event_id=f"c-{n}", sku=SKU, warehouse=where or EAST, occurred_at=at, on_hand=qty
            )
        case "expect":
            eta = NOW.date() + dt.timedelta(days=qty % 4)
            return ExpectedReceipt(
                event_id=f"e-{n}",
                po_id=where or "PO-1",
                sku=SKU,
                warehouse=EAST if qty % 2 else WEST,
                qty=qty,
                eta=eta,
            )
        case "cancel_po":
            return ExpectedReceiptCancelled(
                event_id=f"x-{n}", po_id=where or "PO-1", sku=SKU, warehouse=EAST
            )
        case "safety":
            return SafetyStockSet(event_id=f"s-{n}", sku=SKU, warehouse=where or EAST, qty=qty)
        case "nothing":
            return StockHoldChanged(
                event_id=f"h-{n}", sku=SKU, warehouse=EAST, occurred_at=at, delta=0
            )
        case "release":
            return ReleaseReservation(event_id=f"l-{n}", sku=SKU, order_id=f"SO-{qty}", line_no=1)
        case _:
            return None


# -- a queue stored whole by the release before -----------------------------------------------


class ReleaseBeforeQueueRow(msgspec.Struct, frozen=True):
    """The queue's one row as the release before stored it."""

    entries: tuple[Backorder, ...] = ()
    recent: tuple[Sent, ...] = ()


def test_a_queue_stored_whole_is_read_back_as_the_same_queue_and_split_on_first_touch() -> None:
    # Given a SKU whose queue the release before stored in one row: two lines waiting, the
    # older promised a PO's date, and the fill a receipt r-8 answered
    eta = NOW.date() + dt.timedelta(days=5)
    r8_filled = BackorderFilled(
        event_id="r-8:fill:SO-9:1",
        order_id="SO-9",
        line_no=1,
        sku=SKU,
        qty=1,
        fills=(Fill(EAST, 1),),
    )
    old = (
        Backorder(NOW, "SO-OLD", 1, qty=3, promise_date=eta, correlation_id="c-old"),
        Backorder(NOW + dt.timedelta(hours=1), "SO-NEW", 2, qty=4, warehouse=EAST),
    )
    stock = SkuStock(
        SKU,
        positions=(Position(EAST, incoming=(IncomingSupply("PO-1", 3, eta, promised=3),)),),
        last_offset=4,
        queued=7,
    )
    rows = DictRows(
        {
            value_key(SKU): encode_stock(stock),
            queue_key(SKU): msgspec.msgpack.encode(
                ReleaseBeforeQueueRow(old, recent=(Sent("r-8", (r8_filled,)),))
            ),
        }
    )
    table = StockTable(SKU, rows=rows)
    # Then it reads back as the same queue
    assert stored_queue(rows, SKU) == old
    # When a receipt of 2 arrives
    applied = table.send(received(2, "r-9"))
    # Then the oldest line takes it, and the queue is kept as a row per line
    assert [(a.order_id, a.qty) for a in applied.answers if isinstance(a, BackorderFilled)] == [
        ("SO-OLD", 3)
    ]
    assert [(b.order_id, b.qty) for b in stored_queue(rows, SKU)] == [("SO-OLD", 1), ("SO-NEW", 4)]
    assert len(rows.with_prefix(backorders_prefix(SKU))) == 2
    assert b"entries" not in rows[queue_key(SKU)]
    assert table.stock.queued == 5
    # And when Kafka delivers r-8 again, its fill is answered again
    again = table.deliver(received(1, "r-8"), offset=3)
    assert isinstance(again, Applied)
    assert again.duplicate
    assert again.answers == (r8_filled,)

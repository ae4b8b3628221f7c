"""No oversell, ever: random stock changes and order-line commands, against an oracle."""

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from protocols.erp import SafetyStockSet
from protocols.inventory import StockAdjusted, StockCounted, StockHoldChanged, StockReceived
from protocols.reservations import (
    AllocateLine,
    Deallocate,
    LineReserved,
    LineTakenBack,
    LineUnreservable,
    RecordShipment,
    RecordShortPick,
    ReleaseReservation,
    ReserveLine,
    StockCommand,
)
from protocols.topics import StockInboxMessage
from tables.batch import Failed
from tables.errors import InvalidStockChange
from tables.stock.apply import Applied, apply
from tables.stock.value import Position, Reservation, SkuStock
from tests.support.tables import NOT_REFUSALS, StockTable
from tests.unit.test_atp_rules import Model

SKU = "SKU-1"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
WAREHOUSES = ("DC-A", "DC-B", "DC-C")
ORDERS = ("O-1", "O-2", "O-3")
SUBMITTED = {order: NOW + dt.timedelta(minutes=n) for n, order in enumerate(ORDERS)}
LINES = (1, 2, 3, 4)
SEQUENCES = settings(max_examples=200, deadline=None)
REDELIVERIES = settings(max_examples=120, deadline=None)


@dataclass
class Hold:
    """The oracle's record of one order line."""

    warehouse: str
    reserved: int
    allocated: int = 0
    steps: list[str] = field(default_factory=list)
    submitted_at: dt.datetime | None = None


class Oracle(Model):
    """The stock oracle plus order lines: the contract's rules written out with plain dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.holds: dict[tuple[str, int], Hold] = {}

    def committed_at(self, wh: str) -> tuple[int, int]:
        held = [h for h in self.holds.values() if h.warehouse == wh]
        return sum(h.reserved for h in held), sum(h.allocated for h in held)

    def atp(self, wh: str) -> int:
        reserved, allocated = self.committed_at(wh)
        free = self.on_hand[wh] - self.blocked[wh] - self.safety[wh] - reserved - allocated
        return max(0, free) if wh in self.seen else 0

    def source(self, qty: int, asked: str | None) -> str | None:
        """The contract's sourcing: the asked warehouse, else the largest ATP, first code."""
        candidates = [asked] if asked is not None else sorted(self.seen)
        covering = [wh for wh in candidates if self.atp(wh) >= qty]
        return min(covering, key=lambda wh: (-self.atp(wh), wh), default=None)

    def apply(self, m: StockInboxMessage) -> bool:
        if not isinstance(m, StockCommand):
            valid = super().apply(m)
            if valid and not isinstance(m, SafetyStockSet):
                self.take_back(m.warehouse)
            return valid
        key = (m.order_id, m.line_no)
        hold = self.holds.get(key)
        if isinstance(m, ReserveLine):
            wh = self.source(m.qty, m.warehouse)
            if hold is None and wh is not None:
                self.holds[key] = Hold(wh, m.qty, submitted_at=m.submitted_at)
        elif isinstance(m, RecordShortPick | RecordShipment):
            return self.take_out(m, hold, m.short if isinstance(m, RecordShortPick) else m.qty)
        elif hold is None:
            pass
        elif isinstance(m, ReleaseReservation):
            hold.reserved = 0
        elif isinstance(m, AllocateLine):
            hold.reserved, hold.allocated = 0, hold.allocated + hold.reserved
        else:
            assert isinstance(m, Deallocate)
            hold.reserved = hold.allocated = 0
        self.forget_empty()
        return True

    def take_out(self, m: StockCommand, hold: Hold | None, qty: int) -> bool:
        if hold is None:
            return False
        if m.event_id in hold.steps:
            return True
        wh = hold.warehouse
        if qty > hold.allocated or qty > self.on_hand[wh]:
            return False
        hold.allocated -= qty
        hold.steps.append(m.event_id)
        self.on_hand[wh] -= qty
        self.blocked[wh] = min(self.blocked[wh], self.on_hand[wh])
        self.forget_empty()
        return True

    def take_back(self, wh: str) -> None:
        """Reservations beyond what is on hand give way, the newest order's first."""
        reserved, allocated = self.committed_at(wh)
        due = min(reserved, reserved + allocated + self.blocked[wh] - self.on_hand[wh])
        newest = sorted(
            (key for key, h in self.holds.items() if h.warehouse == wh and h.reserved),
            key=lambda key: (self.holds[key].submitted_at or NOW, key),
            reverse=True,
        )
        for key in newest:
            taken = min(max(0, due), self.holds[key].reserved)
            self.holds[key].reserved -= taken
            due -= taken
        self.forget_empty()

    def forget_empty(self) -> None:
        self.holds = {k: h for k, h in self.holds.items() if h.reserved or h.allocated}

    def positions(self) -> tuple[Position, ...]:
        return tuple(
            replace(p, reserved=r, allocated=a)
            for p in super().positions()
            for r, a in [self.committed_at(p.warehouse)]
        )

    def reservations(self) -> tuple[Reservation, ...]:
        return tuple(
            Reservation(
                o, n, h.warehouse, h.reserved, h.allocated, tuple(h.steps), (), h.submitted_at
            )
            for (o, n), h in sorted(self.holds.items())
        )


# --- the messages ------------------------------------------------------------------------


warehouse_codes = st.lists(st.sampled_from(WAREHOUSES), min_size=1, max_size=3, unique=True)
opening_qtys = st.integers(1, 30)
any_line = st.tuples(st.sampled_from(ORDERS), st.sampled_from(LINES))
Line = tuple[str, int]


@functools.cache
def stock_changes(codes: tuple[str, ...]) -> st.SearchStrategy[StockInboxMessage]:
    """Receipts, adjusts, holds, counts and safety stock in one of `codes`."""
    at = {"event_id": st.just("e"), "sku": st.just(SKU), "warehouse": st.sampled_from(codes)}
    wms = {**at, "occurred_at": st.just(NOW)}
    return st.one_of(
        st.builds(StockReceived, **wms, qty=st.integers(1, 30)),
        st.builds(StockAdjusted, **wms, delta=st.integers(-12, 12)),
        st.builds(StockHoldChanged, **wms, delta=st.integers(-6, 10)),
        st.builds(StockCounted, **wms, on_hand=st.integers(0, 40)),
        st.builds(SafetyStockSet, **at, qty=st.integers(0, 8)),
    )


@functools.cache  # hypothesis validates each new strategy: build each one once
def next_messages(
    codes: tuple[str, ...], line: Line, allocated: int
) -> st.SearchStrategy[StockInboxMessage]:
    """A stock change, or (twice as likely) a command for `line`, which has `allocated`."""
    return st.one_of(stock_changes(codes), *[commands(codes, line, allocated)] * 2)


@functools.cache
def lines_from(held: tuple[Line, ...]) -> st.SearchStrategy[Line]:
    """Mostly a line holding stock, else any line."""
    return st.one_of(*[st.sampled_from(held)] * 3, any_line) if held else any_line


def commands(
    codes: tuple[str, ...], line: Line, allocated: int
) -> st.SearchStrategy[StockInboxMessage]:
    """Every order-line command for `line`; short picks and shipments often within `allocated`."""
    take = st.integers(1, 6) | st.integers(1, max(1, allocated))
    of_line = {
        "event_id": st.just("e"),
        "sku": st.just(SKU),
        "order_id": st.just(line[0]),
        "line_no": st.just(line[1]),
    }
    asked = st.none() | st.sampled_from(codes)
    reserve = st.builds(
        ReserveLine,
        **of_line,
        qty=st.integers(1, 12),
        warehouse=asked,
        submitted_at=st.just(SUBMITTED[line[0]]),
    )
    out = [
        st.builds(RecordShortPick, **of_line, short=take),
        st.builds(RecordShipment, **of_line, qty=take),
    ]
    return st.one_of(
        reserve,
        reserve,
        st.builds(ReleaseReservation, **of_line),
        st.builds(AllocateLine, **of_line),
        st.builds(Deallocate, **of_line),
        *out * (3 if allocated else 1),
    )


def scenario(
    data: st.DataObject, oracle: Oracle, codes: list[str], length: int
) -> Iterator[StockInboxMessage]:
    """Stock in every warehouse, then `length` messages, drawn as the oracle's lines stand.

    Apply each message to `oracle` before asking for the next: lines that hold stock are
    picked more often, and so are short picks and shipments their allocation covers.
    """
    for n, code in enumerate(codes):
        qty = data.draw(opening_qtys)
        yield StockReceived(event_id=f"e-{n}", sku=SKU, warehouse=code, occurred_at=NOW, qty=qty)
    for n in range(len(codes), len(codes) + length):
        line = data.draw(lines_from(tuple(sorted(oracle.holds))))
        allocated = oracle.holds[line].allocated if line in oracle.holds else 0
        message = data.draw(next_messages(tuple(codes), line, allocated))
        yield replace(message, event_id=f"e-{n}")


# --- what must hold after every step ----------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What the SKU holds at one moment: its value and its order lines' holds."""

    stock: SkuStock
    lines: tuple[Reservation, ...]

    @classmethod
    def of(cls, table: StockTable) -> "Figures":
        return cls(table.stock, table.lines)

    def line(self, order_id: str, line_no: int) -> Reservation | None:
        return next((r for r in self.lines if r.key == (order_id, line_no)), None)


def assert_holds_add_up(table: StockTable, after: Figures) -> None:
    """Every position's commitments are exactly its lines' holds, and nothing is negative."""
    stock, lines = after.stock, after.lines
    for r in lines:
        assert table.line(*r.key) == r
        assert min(r.reserved, r.allocated) >= 0
        assert r.reserved + r.allocated > 0
        assert stock.position(r.warehouse) is not None
    for p in stock.positions:
        held = [r for r in lines if r.warehouse == p.warehouse]
        assert p.reserved == sum(r.reserved for r in held) >= 0
        assert p.allocated == sum(r.allocated for r in held) >= 0
        assert 0 <= p.blocked <= p.on_hand
        # the shelf never holds less than is committed while a reservation could give way
        assert p.reserved == 0 or p.blocked + p.reserved + p.allocated <= p.on_hand


def assert_no_oversell(
    before: Figures, message: StockInboxMessage, result: Applied, after: Figures
) -> None:
    """A new hold only ever takes ATP there was: commitments stay within the free stock."""
    if not isinstance(message, ReserveLine):
        # a stock fact answers only the lines whose reservations it took back
        assert all(isinstance(a, LineTakenBack) for a in result.answers)
        assert not result.answers or not isinstance(message, StockCommand)
        return
    (answer,) = result.answers
    assert (answer.event_id, answer.correlation_id) == (f"{message.event_id}:answer", "")
    new_hold = before.line(message.order_id, message.line_no) is None
    if isinstance(answer, LineReserved) and new_hold:
        was, now = before.stock.position(answer.warehouse), after.stock.position(answer.warehouse)
        assert was is not None
        assert now is not None
        assert was.atp >= message.qty
        assert now.reserved + now.allocated <= now.on_hand - now.blocked - now.safety_stock
    else:
        assert (after.stock.positions, after.lines) == (before.stock.positions, before.lines)


def assert_answer_is_the_oracles(oracle: Oracle, message: ReserveLine, result: Applied) -> None:
    """The answer says what the oracle's sourcing says, with the ATP it found."""
    (answer,) = result.answers
    hold = oracle.holds.get((message.order_id, message.line_no))
    if hold is None:
        assert isinstance(answer, LineUnreservable)
        asked = [message.warehouse] if message.warehouse else sorted(oracle.seen)
        assert answer.atp == max((oracle.atp(wh) for wh in asked), default=0) < message.qty
    else:
        assert isinstance(answer, LineReserved)
        assert answer.warehouse == hold.warehouse


def assert_resending_changes_nothing(
    after: Figures, result: Applied, message: StockInboxMessage, n: int
) -> None:
    """The same command again: under a fresh id, or (a delta) once the SKU forgot its id."""
    if not isinstance(message, StockCommand):
        return
    deltas = isinstance(message, RecordShortPick | RecordShipment)
    again = message if deltas else replace(message, event_id=f"again-{n}")
    record = after.line(message.order_id, message.line_no)
    offset = after.stock.last_offset + 1
    if deltas and record is None:
        # the delta took the line's last unit, and its record (with its id) went with it
        with pytest.raises(InvalidStockChange, match=r"^unknown_allocation"):
            apply(after.stock, again, offset, NOW, holds=(), seen=False)
        return
    holds = () if record is None else (record,)
    repeated = apply(after.stock, again, offset, NOW, holds=holds, seen=False)
    assert (repeated.stock.positions, repeated.holds) == (after.stock.positions, holds)
    assert repeated.changes == ()
    assert [replace(a, event_id="") for a in repeated.answers] == [
        replace(a, event_id="") for a in result.answers
    ]


@SEQUENCES
@given(warehouse_codes, st.integers(5, 60), st.data())
def test_no_oversell_ever(codes: list[str], length: int, data: st.DataObject) -> None:
    oracle, table = Oracle(), StockTable(SKU)
    budget: Counter[str] = Counter()  # ATP left since anything but a reservation last moved it
    for offset, message in enumerate(scenario(data, oracle, codes, length)):
        valid = oracle.apply(message)
        before = Figures.of(table)
        result = table.deliver(message, offset)
        if isinstance(result, Failed):
            assert not valid
            assert result.reason not in NOT_REFUSALS, result
            continue
        assert valid
        after = Figures.of(table)
        assert after.stock.positions == oracle.positions()
        assert after.lines == oracle.reservations()
        assert_holds_add_up(table, after)
        assert_no_oversell(before, message, result, after)
        assert_resending_changes_nothing(after, result, message, offset)
        if isinstance(message, ReserveLine):
            assert_answer_is_the_oracles(oracle, message, result)
        reserved = [a for a in result.answers if isinstance(a, LineReserved)]
        if reserved and result.changes:
            budget[reserved[0].warehouse] -= reserved[0].qty
        else:
            budget = Counter({p.warehouse: p.atp for p in after.stock.positions})
        assert all(budget[p.warehouse] == p.atp >= 0 for p in after.stock.positions)


@REDELIVERIES
@given(warehouse_codes, st.integers(5, 50), st.data())
def test_redelivered_and_resent_line_commands_apply_once(
    codes: list[str], length: int, data: st.DataObject
) -> None:
    # Given the oracle's state after each original applied once, in order
    oracle = Oracle()
    originals, valid = [], []
    for message in scenario(data, oracle, codes, length):
        originals.append(message)
        valid.append(oracle.apply(message))
    # When the partition is consumed with rewinds (same offsets) and re-sends (new offsets)
    topic: list[StockInboxMessage] = []
    table = StockTable(SKU)

    def deliver(offset: int) -> None:
        message = topic[offset]
        result = table.deliver(message, offset)
        if isinstance(result, Failed):
            assert result.reason not in NOT_REFUSALS, result
        elif isinstance(message, ReserveLine):
            assert [a.event_id for a in result.answers] == [f"{message.event_id}:answer"]

    for n, message in enumerate(originals):
        topic.append(message)
        deliver(len(topic) - 1)
        action = data.draw(st.sampled_from(["next", "rewind", "resend"]))
        if action == "rewind":
            for offset in range(data.draw(st.integers(0, len(topic) - 1)), len(topic)):
                deliver(offset)
        elif action == "resend" and any(valid[: n + 1]):
            applied = [m for m, ok in zip(originals[: n + 1], valid, strict=False) if ok]
            topic.append(data.draw(st.sampled_from(applied)))
            deliver(len(topic) - 1)
    # Then the state is the oracle's, as if each had been applied once
    assert table.stock.positions == oracle.positions()
    assert table.lines == oracle.reservations()
    assert table.stock.version == sum(valid)

"""ATP decisions with numbers, and the stock and ATP rules as hypothesis properties."""

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from protocols.erp import ErpMessage, ExpectedReceipt, ExpectedReceiptCancelled, SafetyStockSet
from protocols.inventory import (
    StockAdjusted,
    StockCounted,
    StockEvent,
    StockHoldChanged,
    StockReceived,
)
from protocols.topics import StockInboxMessage
from tables.batch import Failed
from tables.errors import InvalidStockChange
from tables.stock.apply import apply
from tables.stock.atp import (
    LineAnswer,
    LineQuery,
    available_to_promise,
    check_line,
    check_lines,
    promise_date,
    source_line,
)
from tables.stock.value import IncomingSupply, Position, SkuStock
from tests.support.tables import NOT_REFUSALS, StockTable

SKU = "SKU-1"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
WAREHOUSES = ("DC-A", "DC-B", "DC-C")
POS = ("PO-1", "PO-2", "PO-3", "PO-4")
PROPERTY = settings(max_examples=150, deadline=None)
SEQUENCES = settings(max_examples=400, deadline=None)


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def pos(
    wh: str, on_hand: int = 0, *, incoming: tuple[tuple[int, int], ...] = (), **kw: int
) -> Position:
    """A position; `incoming` as (qty, days from today) pairs."""
    supply = tuple(IncomingSupply(f"PO-{n}", q, day(d)) for n, (q, d) in enumerate(incoming))
    return Position(wh, on_hand=on_hand, incoming=supply, **kw)


def sku(*positions: Position) -> SkuStock:
    return SkuStock(sku=SKU, positions=positions)


# --- ATP decisions, with numbers --------------------------------------------------------


def test_available_to_promise_is_the_contract_formula() -> None:
    position = pos("DC-A", 20, blocked=2, reserved=3, allocated=4, safety_stock=5)
    assert available_to_promise(position) == 6


def test_source_line_takes_the_largest_atp_that_covers() -> None:
    stock = sku(pos("DC-A", 8), pos("DC-B", 12), pos("DC-C", 10))
    assert source_line(stock, 9, None) == pos("DC-B", 12)


def test_source_line_ties_go_to_the_alphabetically_first_code() -> None:
    stock = sku(pos("DC-C", 12), pos("DC-B", 12), pos("DC-A", 3))
    assert source_line(stock, 5, None) == pos("DC-B", 12)


def test_source_line_finds_nothing_when_no_warehouse_covers() -> None:
    assert source_line(sku(pos("DC-A", 4), pos("DC-B", 4)), 5, None) is None


def test_source_line_with_a_warehouse_looks_only_there() -> None:
    stock = sku(pos("DC-A", 4), pos("DC-B", 40))
    assert source_line(stock, 4, "DC-A") == pos("DC-A", 4)
    assert source_line(stock, 5, "DC-A") is None
    assert source_line(stock, 1, "DC-Z") is None


def test_promise_date_is_today_when_covered_now() -> None:
    assert promise_date(pos("DC-A", 5, incoming=((10, 3),)), 5, TODAY) == TODAY


def test_promise_date_is_the_first_eta_where_receipts_cover() -> None:
    # Given 5 free now, 4 due in 3 days and 10 due in 7 days
    position = pos("DC-A", 5, incoming=((10, 7), (4, 3)))
    # Then 9 are promised in 3 days, 10 in 7 days, 20 never
    assert promise_date(position, 9, TODAY) == day(3)
    assert promise_date(position, 10, TODAY) == day(7)
    assert promise_date(position, 20, TODAY) is None


def test_promise_date_counts_an_overdue_po_as_due_today() -> None:
    assert promise_date(pos("DC-A", 1, incoming=((10, -4),)), 5, TODAY) == TODAY


def test_promise_date_receipts_first_fill_a_shortfall() -> None:
    # Given nothing on hand but 6 safety stock, and 8 due in 2 days
    position = pos("DC-A", 0, safety_stock=6, incoming=((8, 2),))
    # Then only 2 can be promised on that day
    assert promise_date(position, 2, TODAY) == day(2)
    assert promise_date(position, 3, TODAY) is None


def test_check_line_for_an_unknown_sku() -> None:
    assert check_line(None, SKU, 3, None, TODAY) == LineAnswer(SKU, 3, False, None, 0, None)
    assert check_line(None, SKU, 3, "DC-A", TODAY) == LineAnswer(SKU, 3, False, "DC-A", 0, None)


def test_check_line_sources_a_line_covered_now() -> None:
    stock = sku(pos("DC-A", 8), pos("DC-B", 12))
    assert check_line(stock, SKU, 9, None, TODAY) == LineAnswer(SKU, 9, True, "DC-B", 12, TODAY)


def test_check_line_not_covered_now_picks_the_earliest_promise() -> None:
    stock = sku(pos("DC-A", 8, incoming=((5, 9),)), pos("DC-B", 2, incoming=((10, 4),)))
    answer = check_line(stock, SKU, 10, None, TODAY)
    assert answer == LineAnswer(SKU, 10, False, "DC-B", 2, day(4))


def test_check_line_equal_promise_dates_go_to_the_first_code() -> None:
    stock = sku(pos("DC-B", 8, incoming=((5, 4),)), pos("DC-C", 2, incoming=((10, 4),)))
    assert check_line(stock, SKU, 10, None, TODAY).warehouse == "DC-B"


def test_check_line_never_covered_reports_the_best_atp_and_no_date() -> None:
    stock = sku(pos("DC-A", 8), pos("DC-B", 2, incoming=((3, 4),)))
    assert check_line(stock, SKU, 10, None, TODAY) == LineAnswer(SKU, 10, False, None, 8, None)


def test_check_line_in_a_given_warehouse_answers_for_it_alone() -> None:
    stock = sku(pos("DC-A", 8), pos("DC-B", 2, incoming=((10, 4),)))
    assert check_line(stock, SKU, 5, "DC-B", TODAY) == LineAnswer(SKU, 5, False, "DC-B", 2, day(4))
    assert check_line(stock, SKU, 5, "DC-Z", TODAY) == LineAnswer(SKU, 5, False, "DC-Z", 0, None)


def test_check_lines_of_one_sku_share_its_atp() -> None:
    # Given 8 in DC-A and 6 in DC-B
    stocks = {SKU: sku(pos("DC-A", 8), pos("DC-B", 6))}
    # When three lines ask for 5 each
    answers = check_lines([LineQuery(SKU, 5)] * 3, stocks, TODAY)
    # Then the first two are served from different warehouses, the third is not covered
    assert [(a.available, a.warehouse, a.atp) for a in answers] == [
        (True, "DC-A", 8),
        (True, "DC-B", 6),
        (False, None, 3),
    ]


# --- properties: stock rules ------------------------------------------------------------

warehouses = st.sampled_from(WAREHOUSES)
busy_warehouses = st.sampled_from(WAREHOUSES[:2])  # fewer codes: messages collide more often
po_ids = st.sampled_from(POS)
etas = st.integers(-3, 12).map(day)
qtys = st.integers(1, 25)
deltas = st.integers(-25, 25)


def wms(kind: type[StockEvent], **fields: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """A WMS stock event of `kind` for the SKU, in any warehouse."""
    common = {"event_id": st.just("e"), "sku": st.just(SKU), "occurred_at": st.just(NOW)}
    return st.builds(kind, warehouse=busy_warehouses, **common, **fields)


def erp(kind: type[ErpMessage], **fields: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """An ERP supply message of `kind` for the SKU, in any warehouse."""
    common = {"event_id": st.just("e"), "sku": st.just(SKU)}
    return st.builds(kind, warehouse=busy_warehouses, **common, **fields)


messages: st.SearchStrategy[StockInboxMessage] = st.one_of(
    wms(StockReceived, qty=qtys, po_id=st.none() | po_ids),
    wms(StockAdjusted, delta=deltas),
    wms(StockHoldChanged, delta=deltas),
    wms(StockCounted, on_hand=st.integers(0, 40)),
    erp(SafetyStockSet, qty=st.integers(0, 15)),
    erp(ExpectedReceipt, po_id=po_ids, qty=qtys, eta=etas),
    erp(ExpectedReceiptCancelled, po_id=po_ids),
)
message_lists = st.lists(messages, max_size=40).map(
    lambda ms: [replace(m, event_id=f"e-{n}") for n, m in enumerate(ms)]
)


@st.composite
def positions(draw: st.DrawFn, warehouse: str) -> Position:
    """A position that respects 0 <= blocked <= on_hand, with any commitments."""
    on_hand = draw(st.integers(0, 40))
    supply = draw(st.lists(st.tuples(po_ids, qtys, etas), max_size=3, unique_by=lambda s: s[0]))
    return Position(
        warehouse,
        on_hand=on_hand,
        blocked=draw(st.integers(0, on_hand)),
        reserved=draw(st.integers(0, 15)),
        allocated=draw(st.integers(0, 15)),
        safety_stock=draw(st.integers(0, 10)),
        incoming=tuple(
            sorted((IncomingSupply(*s) for s in supply), key=lambda s: (s.eta, s.po_id))
        ),
    )


def one_book(ps: tuple[Position, ...]) -> SkuStock:
    """A SKU's stock in which each PO is expected at one warehouse only, as `apply` keeps it."""
    seen: set[str] = set()
    unique = []
    for p in ps:
        unique.append(replace(p, incoming=tuple(s for s in p.incoming if s.po_id not in seen)))
        seen.update(s.po_id for s in p.incoming)
    return SkuStock(sku=SKU, positions=tuple(unique))


stocks = (
    st.lists(warehouses, unique=True)
    .flatmap(lambda codes: st.tuples(*(positions(code) for code in sorted(codes))))
    .map(one_book)
)


class Model:
    """An independent oracle: plain counters and a PO book, the contract rules written out."""

    def __init__(self, start: SkuStock | None = None) -> None:
        self.on_hand: Counter[str] = Counter()
        self.blocked: Counter[str] = Counter()
        self.safety: Counter[str] = Counter()
        self.committed: dict[str, tuple[int, int]] = {}  # reserved, allocated: never touched
        self.pos: dict[str, tuple[str, int, dt.date]] = {}
        self.received: Counter[tuple[str, str]] = Counter()  # (warehouse, po) -> units
        self.seen: set[str] = set()
        for p in () if start is None else start.positions:
            self.on_hand[p.warehouse], self.blocked[p.warehouse] = p.on_hand, p.blocked
            self.safety[p.warehouse], self.committed[p.warehouse] = (
                p.safety_stock,
                (p.reserved, p.allocated),
            )
            self.pos |= {s.po_id: (p.warehouse, s.qty, s.eta) for s in p.incoming}
            self.seen.add(p.warehouse)

    def apply(self, m: StockInboxMessage) -> bool:
        """Apply `m`; False (and nothing changed) when it is invalid."""
        wh = m.warehouse
        if isinstance(m, StockAdjusted | StockCounted):
            on_hand = self.on_hand[wh] + m.delta if isinstance(m, StockAdjusted) else m.on_hand
            if on_hand < 0:
                return False
            self.on_hand[wh], self.blocked[wh] = on_hand, min(self.blocked[wh], on_hand)
        elif isinstance(m, StockHoldChanged):
            if not 0 <= self.blocked[wh] + m.delta <= self.on_hand[wh]:
                return False
            self.blocked[wh] += m.delta
        elif isinstance(m, StockReceived):
            self.on_hand[wh] += m.qty
            if m.po_id is not None:
                self.received[(wh, m.po_id)] += m.qty
            if m.po_id in self.pos and self.pos[m.po_id][0] == wh:
                _, due, eta = self.pos.pop(m.po_id)
                if due > m.qty:
                    self.pos[m.po_id] = (wh, due - m.qty, eta)
        elif isinstance(m, SafetyStockSet):
            self.safety[wh] = m.qty
        elif isinstance(m, ExpectedReceipt):
            # the PO's quantity, less what already arrived against it anywhere
            due = m.qty - sum(n for (_, po), n in self.received.items() if po == m.po_id)
            self.pos.pop(m.po_id, None)
            if due > 0:
                self.pos[m.po_id] = (wh, due, m.eta)
        else:
            self.pos.pop(m.po_id, None)
            for key in [key for key in self.received if key[1] == m.po_id]:
                del self.received[key]
            return True
        self.seen.add(wh)
        return True

    def positions(self) -> tuple[Position, ...]:
        return tuple(
            Position(
                wh,
                on_hand=self.on_hand[wh],
                blocked=self.blocked[wh],
                reserved=self.committed.get(wh, (0, 0))[0],
                allocated=self.committed.get(wh, (0, 0))[1],
                safety_stock=self.safety[wh],
                incoming=tuple(
                    IncomingSupply(po, qty, eta)
                    for po, (at, qty, eta) in sorted(
                        self.pos.items(), key=lambda i: (i[1][2], i[0])
                    )
                    if at == wh
                ),
                received=tuple(
                    sorted((po, n) for (at, po), n in self.received.items() if at == wh and n)
                ),
            )
            for wh in sorted(self.seen)
        )


@SEQUENCES
@given(stocks, message_lists)
def test_every_position_keeps_its_invariants_and_follows_the_rules(
    stock: SkuStock, sequence: list[StockInboxMessage]
) -> None:
    model = Model(stock)
    for offset, message in enumerate(sequence):
        valid = model.apply(message)
        try:
            result = apply(stock, message, offset, NOW)
        except InvalidStockChange:
            assert not valid
            continue
        assert valid
        assert result.stock.positions == model.positions()
        for p in result.stock.positions:
            assert p.on_hand >= 0
            assert 0 <= p.blocked <= p.on_hand
            expected_atp = p.on_hand - p.blocked - p.reserved - p.allocated - p.safety_stock
            assert p.atp == available_to_promise(p) == max(0, expected_atp) >= 0
        changed = {p.warehouse for p in result.stock.positions if p != stock.position(p.warehouse)}
        empty_created = {
            w
            for w in changed
            if stock.position(w) is None and result.stock.position(w) == Position(w)
        }
        assert [c.warehouse for c in result.changes] == sorted(changed - empty_created)
        for change in result.changes:
            now = result.stock.position(change.warehouse)
            assert now is not None
            assert (change.on_hand, change.blocked, change.safety_stock, change.atp) == (
                now.on_hand,
                now.blocked,
                now.safety_stock,
                now.atp,
            )
        stock = result.stock


@SEQUENCES
@given(message_lists, st.data())
def test_redelivered_and_resent_messages_apply_once(
    originals: list[StockInboxMessage], data: st.DataObject
) -> None:
    # Given the oracle's verdict on applying each original once, in order
    model = Model()
    valid = [model.apply(m) for m in originals]
    # When the partition is consumed with rewinds (same offsets) and re-sends (new offsets)
    topic: list[StockInboxMessage] = []
    table = StockTable(SKU)

    def deliver(offset: int) -> None:
        outcome = table.deliver(topic[offset], offset)
        # a refusal by a rule is fine; a bug or a message that does not decode is not
        assert not isinstance(outcome, Failed) or outcome.reason not in NOT_REFUSALS, outcome

    for n, message in enumerate(originals):
        topic.append(message)
        deliver(len(topic) - 1)
        action = data.draw(st.sampled_from(["next", "rewind", "resend"]))
        applied = [originals[i] for i in range(n + 1) if valid[i]]
        if action == "rewind":
            for offset in range(data.draw(st.integers(0, len(topic) - 1)), len(topic)):
                deliver(offset)
        elif action == "resend" and applied:
            # any applied message, however long ago: the SKU remembers every id it applied
            topic.append(data.draw(st.sampled_from(applied)))
            deliver(len(topic) - 1)
    # Then the state is the oracle's, as if each had been applied once
    applied_ids = [m.event_id for m, ok in zip(originals, valid, strict=True) if ok]
    assert table.stock.positions == model.positions()
    assert table.stock.version == len(applied_ids)
    refused_ids = {m.event_id for m, ok in zip(originals, valid, strict=True) if not ok}
    assert all(table.has_seen(event_id) for event_id in applied_ids)
    assert not any(table.has_seen(event_id) for event_id in refused_ids)


# --- properties: ATP decisions ----------------------------------------------------------


@PROPERTY
@given(stocks, st.integers(1, 50))
def test_source_line_picks_the_largest_atp_first_code_on_ties(stock: SkuStock, qty: int) -> None:
    chosen = source_line(stock, qty, None)
    if chosen is None:
        assert all(p.atp < qty for p in stock.positions)
        return
    assert chosen in stock.positions
    assert chosen.atp >= qty
    assert all(
        p.atp < chosen.atp or (p.atp == chosen.atp and p.warehouse >= chosen.warehouse)
        for p in stock.positions
    )


def projected(position: Position, on: dt.date) -> int:
    """Oracle: free stock on a date once every receipt due by then (overdue ones today) is in."""
    return position.net_available + sum(s.qty for s in position.incoming if max(s.eta, TODAY) <= on)


@PROPERTY
@given(positions("DC-A"), st.integers(1, 60))
def test_promise_date_is_the_first_day_projected_atp_covers(position: Position, qty: int) -> None:
    date = promise_date(position, qty, TODAY)
    if position.atp >= qty:
        assert date == TODAY
    elif date is None:
        assert projected(position, dt.date.max) < qty
    else:
        assert projected(position, date) >= qty
        assert date == TODAY or projected(position, date - dt.timedelta(days=1)) < qty


@PROPERTY
@given(positions("DC-A"), st.integers(1, 60), st.integers(1, 60))
def test_promise_date_never_gets_earlier_for_more(position: Position, a: int, b: int) -> None:
    def later_key(date: dt.date | None) -> dt.date:
        return dt.date.max if date is None else date

    small, large = sorted((a, b))
    earlier = later_key(promise_date(position, small, TODAY))
    assert earlier <= later_key(promise_date(position, large, TODAY))


@PROPERTY
@given(stocks, st.lists(st.tuples(st.integers(1, 30), st.none() | warehouses), max_size=6))
def test_one_check_never_promises_more_than_the_atp(
    stock: SkuStock, lines: list[tuple[int, str | None]]
) -> None:
    answers = check_lines([LineQuery(SKU, q, w) for q, w in lines], {SKU: stock}, TODAY)
    taken: Counter[str] = Counter()
    for answer, (qty, asked) in zip(answers, lines, strict=True):
        assert answer.warehouse == asked or asked is None
        if answer.available:
            assert answer.warehouse is not None
            taken[answer.warehouse] += qty
    for p in stock.positions:
        assert taken[p.warehouse] <= p.atp
    if lines:
        first = check_line(stock, SKU, lines[0][0], lines[0][1], TODAY)
        assert answers[0] == first


@pytest.mark.parametrize("qty", [1, 7])
def test_check_line_without_warehouse_agrees_with_source_line(qty: int) -> None:
    stock = sku(pos("DC-A", 7), pos("DC-B", 3))
    answer = check_line(stock, SKU, qty, None, TODAY)
    chosen = source_line(stock, qty, None)
    assert chosen is not None
    assert (answer.available, answer.warehouse, answer.promise_date) == (
        True,
        chosen.warehouse,
        TODAY,
    )

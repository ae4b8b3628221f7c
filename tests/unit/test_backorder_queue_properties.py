"""Random stock traffic on one SKU with backorders: every invariant holds after every step.

The oracle is independent of the queue's code: it replays the answers the orders would
receive and checks them against a plain first-come first-served model.
"""

import datetime as dt
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.inventory import StockAdjusted, StockHoldChanged, StockReceived
from protocols.reservations import (
    AllocateLine,
    BackorderFilled,
    Deallocate,
    LineReserved,
    ReleaseReservation,
    ReserveLine,
)
from protocols.topics import StockInboxMessage
from tables.stock.apply import Applied
from tables.stock.backorder_queue import Backorder
from tables.stock.queue_rows import stored_queue
from tables.stock.value import Position, SkuStock
from tests.support.tables import NOW, StockTable

SKU = "SKU-P"
WAREHOUSES = ("DC-A", "DC-B")


@dataclass
class Line:
    """What an order line was told: asked, held (by the answers), waiting, closed."""

    qty: int
    warehouse: str | None
    at: dt.datetime
    held: int = 0
    closed: bool = False


@dataclass
class Model:
    table: StockTable
    lines: dict[str, Line] = field(default_factory=dict)
    sent: list[tuple[StockInboxMessage, int]] = field(default_factory=list)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(1, 6), st.sampled_from((None, *WAREHOUSES))),
        st.tuples(st.just("receive"), st.integers(1, 8), st.sampled_from(WAREHOUSES)),
        st.tuples(st.just("adjust"), st.integers(1, 4), st.sampled_from(WAREHOUSES)),
        st.tuples(st.just("block"), st.integers(1, 3), st.sampled_from(WAREHOUSES)),
        st.tuples(st.just("unblock"), st.integers(1, 3), st.sampled_from(WAREHOUSES)),
        st.tuples(st.just("release"), st.integers(0, 20), st.none()),
        st.tuples(st.just("allocate"), st.integers(0, 20), st.none()),
        st.tuples(st.just("deallocate"), st.integers(0, 20), st.none()),
        st.tuples(st.just("again"), st.integers(0, 50), st.booleans()),
    ),
    max_size=40,
)


def _message(model: Model, op: str, n: int, where: object) -> StockInboxMessage | None:
    """The inbox message an operation sends (None: nothing to send)."""
    step = len(model.sent)
    if op == "reserve":
        order = f"O-{step}"
        at = NOW - dt.timedelta(minutes=(step * 7) % 11)  # submissions not in arrival order
        model.lines[order] = Line(n, where if isinstance(where, str) else None, at)
        return ReserveLine(
            event_id=f"{order}:1:reserve", sku=SKU, order_id=order, line_no=1, qty=n,
            warehouse=model.lines[order].warehouse, partial=True, submitted_at=at,
        )  # fmt: skip
    wh = str(where)
    if op == "receive":
        return StockReceived(event_id=f"r{step}", sku=SKU, warehouse=wh, occurred_at=NOW, qty=n)
    if op == "adjust":
        return StockAdjusted(event_id=f"a{step}", sku=SKU, warehouse=wh, occurred_at=NOW, delta=n)
    if op in ("block", "unblock"):
        position = model.table.stock.position(wh) or Position(wh)
        delta = min(n, position.atp) if op == "block" else -min(n, position.blocked)
        if not delta:
            return None
        return StockHoldChanged(
            event_id=f"h{step}", sku=SKU, warehouse=wh, occurred_at=NOW, delta=delta
        )
    return _line_command(model, op, n)


def _line_command(model: Model, op: str, n: int) -> StockInboxMessage | None:
    """Release, allocate or deallocate the n-th open line."""
    open_lines = [o for o, line in model.lines.items() if not line.closed]
    if not open_lines:
        return None
    order = open_lines[n % len(open_lines)]
    if op == "allocate":
        return AllocateLine(event_id=f"{order}:1:allocate", sku=SKU, order_id=order, line_no=1)
    model.lines[order].closed = True
    make = ReleaseReservation if op == "release" else Deallocate
    return make(event_id=f"{order}:1:{op}", sku=SKU, order_id=order, line_no=1)


def _queue(table: StockTable) -> tuple[Backorder, ...]:
    return stored_queue(table.rows, SKU)


def _told(model: Model, applied: Applied) -> None:
    """The orders take the answers: what each line holds, as they were told."""
    for answer in applied.answers:
        line = model.lines[answer.order_id]
        if isinstance(answer, LineReserved):
            line.held = sum(f.qty for f in answer.filled())
        elif isinstance(answer, BackorderFilled):
            line.held += sum(f.qty for f in answer.fills)


def _check(model: Model, before: SkuStock, applied: Applied) -> None:
    """Figures, line equation, and first come first served, after one step."""
    stock = model.table.stock
    queue = _queue(model.table)
    for p in stock.positions:
        assert min(p.on_hand, p.blocked, p.reserved, p.allocated, p.atp) >= 0
        assert p.reserved + p.allocated + p.blocked <= p.on_hand
        assert all(0 <= s.promised <= s.qty for s in p.incoming)
    waiting = {entry.order_id: entry.qty for entry in queue}
    assert stock.queued == sum(waiting.values())
    assert [e.rank for e in queue] == sorted(e.rank for e in queue)
    for order, line in model.lines.items():
        holds = model.table.holds(order, 1)
        held = sum(h.reserved + h.allocated for h in holds)
        if line.closed:
            assert order not in waiting
            continue
        assert held == line.held  # the order was told exactly what the stock side holds
        assert held + waiting.get(order, 0) == line.qty
    # the queue is served: no waiting line could take ATP from a warehouse it accepts
    for entry in queue:
        for p in stock.positions:
            assert not (entry.takes_from(p.warehouse) and p.atp > 0), (entry, p)
    # a fill never went to a line while an older one that could take it kept waiting
    filled = [a for a in applied.answers if isinstance(a, BackorderFilled)]
    for answer in filled:
        rank = (model.lines[answer.order_id].at, answer.order_id, 1)
        for entry in queue:
            for f in answer.fills:
                assert not (entry.rank < rank and entry.takes_from(f.warehouse)), (entry, answer)
    assert stock.version >= before.version


@settings(max_examples=150, deadline=None)
@given(ops)
def test_random_traffic_keeps_the_queue_first_come_first_served(
    steps: list[tuple[str, int, object]],
) -> None:
    table = StockTable.holding(
        SkuStock(sku=SKU, positions=tuple(Position(w) for w in WAREHOUSES), last_offset=0)
    )
    model = Model(table)
    for op, n, where in steps:
        before = table.stock
        if op == "again":
            if not model.sent:
                continue
            message, offset = model.sent[n % len(model.sent)]
            outcome = table.deliver(message, offset if where else table.stock.last_offset + 1)
            assert isinstance(outcome, Applied)
            assert outcome.duplicate
            assert table.stock == before
            continue
        message = _message(model, op, n, where)
        if message is None:
            continue
        applied = table.send(message)
        model.sent.append((message, table.stock.last_offset))
        _told(model, applied)
        _check(model, before, applied)

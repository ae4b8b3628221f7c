"""What one stock message does to the SKU's backorder queue, and what the orders are told.

After a message's own rule: the line it names joins the queue with what it could not
hold (a partial ReserveLine, a FillBackorder) or leaves it (released, deallocated); the
warehouses whose ATP rose serve the queue, oldest order first; and expected receipts
are promised again. Each fill is added to its line's holds and answered with
BackorderFilled, each changed date with BackorderPromised, both to the order inbox.
"""

import datetime as dt
import hashlib
from collections.abc import Callable

import msgspec
from msgspec.structs import replace

from protocols.ids import MAX_EVENT_ID
from protocols.reservations import (
    BackorderFilled,
    BackorderPromised,
    Deallocate,
    Fill,
    FillBackorder,
    ReleaseReservation,
    ReserveLine,
)
from protocols.topics import StockInboxMessage
from tables.stock.backorder_queue import (
    Backorder,
    Changed,
    QueueFill,
    Served,
    Waiting,
    promise,
    promise_inputs,
    serve,
)
from tables.stock.queue_rows import (
    Overlay,
    QueueAnswer,
    QueueChange,
    QueueHead,
    QueueReader,
    Sent,
    waiting_for,
)
from tables.stock.reservations import added_to_hold
from tables.stock.value import LineHolds, LineKey, Position, Reservation, SkuStock


class QueueStep(msgspec.Struct, frozen=True):
    """The queue's part of one message: positions and lines it rewrote, its rows, its answers."""

    positions: tuple[Position, ...] = ()
    lines: tuple[tuple[LineKey, LineHolds], ...] = ()
    change: QueueChange | None = None  # None: the queue is as it was
    waiting: int = 0  # units waiting afterwards (with a change)
    answers: tuple[QueueAnswer, ...] = ()


HoldsOf = Callable[[LineKey], LineHolds]
"""An order line's holds on the SKU as they stand."""


def queue_step(
    before: SkuStock,
    after: SkuStock,
    message: StockInboxMessage,
    queue: QueueReader,
    holds_of: HoldsOf,
    now: dt.datetime,
    today: dt.date,
) -> QueueStep:
    """Join or leave, serve the warehouses whose ATP rose, promise receipts; `after` is the
    SKU once the message's own rule applied, at version `before.version + 1`, and `today`
    the business day an overdue receipt is promised for.

    The dates are computed again only when what they depend on changed: the entries, or a
    shortfall, an expected receipt or the day (the head keeps what they were computed from).
    """
    joining = _joining(message, holds_of)
    if not before.queued and not joining:
        return QueueStep()
    head = queue.head()
    risen = _risen(before, after)
    leaving = isinstance(message, ReleaseReservation | Deallocate)
    if not (joining or leaving or risen) and promise_inputs(after, today) == head.promised_from:
        return QueueStep()  # the common case: nothing the queue depends on changed
    pending = Overlay(queue)
    waiting = head.waiting()
    _tally(waiting, *_join_or_leave(pending, message, joining, now))
    served = serve(after, pending.entries(), risen, waiting)
    pending.update(served.changed)
    for fill in served.fills:
        waiting[fill.asked] = waiting.get(fill.asked, 0) - fill.qty
    stock = _with(after, served.positions)
    if not pending.changed and promise_inputs(stock, today) == head.promised_from:
        return QueueStep()
    promised = promise(stock, pending.entries(), today, head.dated_through)
    pending.update(promised.changed)
    answers: tuple[QueueAnswer, ...] = (
        *_fill_answers(served, message.event_id, after),
        *_promise_answers(promised.changed, message.event_id, after, before.version + 1),
    )
    new_head = QueueHead(
        promise_inputs(_with(stock, promised.positions), today),
        promised.dated_through,
        waiting_for(waiting),
    )
    return QueueStep(
        positions=promised.positions,
        lines=_filled_holds(served, holds_of, message.event_id),
        change=QueueChange(
            None if new_head == head else new_head,
            tuple(pending.changed.items()),
            Sent(message.event_id, answers) if answers else None,
        ),
        waiting=sum(waiting.values()),
        answers=answers,
    )


def _joining(message: StockInboxMessage, holds_of: HoldsOf) -> int:
    """The units of the message's own line that join the queue: what it could not hold."""
    match message:
        case ReserveLine(partial=True):
            held = sum(h.reserved + h.allocated for h in holds_of(_key(message)))
            return max(0, message.qty - held)
        case FillBackorder():
            held = sum(
                n for h in holds_of(_key(message)) for e, n in h.filled if e == message.event_id
            )
            return max(0, message.qty - held)
        case _:
            return 0


def _join_or_leave(
    pending: Overlay, message: StockInboxMessage, joining: int, now: dt.datetime
) -> tuple[Backorder | None, Backorder | None]:
    """The message's own line joins the queue with `joining` units, or leaves it; its entry
    before and after (both None: neither)."""
    if isinstance(message, ReleaseReservation | Deallocate):
        line = (message.order_id, message.line_no)
        left = pending.entry(line)
        if left is not None:
            pending.update(((line, None),))
        return left, None
    if joining and isinstance(message, ReserveLine | FillBackorder):
        current = pending.entry(_key(message))
        joined = _joined(current, message, joining, now)
        pending.update(((_key(message), joined),))
        return current, joined
    return None, None


def _tally(waiting: Waiting, old: Backorder | None, new: Backorder | None) -> None:
    """Count a line's entry changed from `old` to `new` in the units waiting."""
    if old is not None:
        waiting[old.warehouse] = waiting.get(old.warehouse, 0) - old.qty
    if new is not None:
        waiting[new.warehouse] = waiting.get(new.warehouse, 0) + new.qty


def _joined(
    current: Backorder | None, message: ReserveLine | FillBackorder, qty: int, now: dt.datetime
) -> Backorder:
    """The line's entry with `qty` more units: in its place if it waits already (`current`),
    else in its order's place."""
    if current is not None:
        return replace(current, qty=current.qty + qty)
    return Backorder(
        submitted_at=message.submitted_at or now,
        order_id=message.order_id,
        line_no=message.line_no,
        qty=qty,
        warehouse=message.warehouse,
        correlation_id=message.correlation_id,
    )


def _key(message: ReserveLine | FillBackorder) -> LineKey:
    return (message.order_id, message.line_no)


def _risen(before: SkuStock, after: SkuStock) -> list[str]:
    """The warehouses whose ATP the message raised."""
    atp = {p.warehouse: p.atp for p in before.positions}
    return [p.warehouse for p in after.positions if p.atp > atp.get(p.warehouse, 0)]


def _with(stock: SkuStock, positions: tuple[Position, ...]) -> SkuStock:
    """`stock` with `positions` in place of those of the same warehouse."""
    new = {p.warehouse: p for p in positions}
    return replace(stock, positions=tuple(new.get(p.warehouse, p) for p in stock.positions))


def _filled_holds(
    served: Served, holds_of: HoldsOf, cause: str
) -> tuple[tuple[LineKey, LineHolds], ...]:
    """Each filled line's holds with its fills added, recorded under the fill's answer id."""
    lines: dict[LineKey, LineHolds] = {}
    for fill in served.fills:
        holds = lines.get(fill.line) or holds_of(fill.line)
        fill_id = fill_answer_id(cause, fill.line)
        if any(h.warehouse == fill.warehouse for h in holds):
            holds = tuple(
                added_to_hold(h, fill.qty, fill_id) if h.warehouse == fill.warehouse else h
                for h in holds
            )
        else:
            order_id, line_no = fill.line
            new = Reservation(order_id, line_no, fill.warehouse, reserved=0, allocated=0)
            holds = (*holds, added_to_hold(new, fill.qty, fill_id))
        lines[fill.line] = holds
    return tuple(lines.items())


def _fill_answers(served: Served, cause: str, stock: SkuStock) -> tuple[BackorderFilled, ...]:
    """One BackorderFilled per line the queue filled, every warehouse's part in it."""
    by_line: dict[LineKey, list[Fill]] = {}
    first: dict[LineKey, QueueFill] = {}
    for fill in served.fills:
        by_line.setdefault(fill.line, []).append(Fill(fill.warehouse, fill.qty))
        first.setdefault(fill.line, fill)
    return tuple(
        BackorderFilled(
            event_id=fill_answer_id(cause, line),
            order_id=line[0],
            line_no=line[1],
            sku=stock.sku,
            qty=first[line].waiting,
            correlation_id=first[line].correlation_id,
            fills=tuple(fills),
        )
        for line, fills in by_line.items()
    )


def _promise_answers(
    changed: Changed, cause: str, stock: SkuStock, version: int
) -> tuple[BackorderPromised, ...]:
    """A BackorderPromised for each waiting line whose date is new or changed."""
    return tuple(
        BackorderPromised(
            event_id=_derived_id(cause, f"promise:{entry.order_id}:{entry.line_no}"),
            order_id=entry.order_id,
            line_no=entry.line_no,
            sku=stock.sku,
            qty=entry.qty,
            correlation_id=entry.correlation_id,
            promise_date=entry.promise_date,
            as_of=version,
        )
        for _, entry in changed
        if entry is not None
    )


def fill_answer_id(cause: str, line: LineKey) -> str:
    """The id of the BackorderFilled the message `cause` sends `line`: stable across replays."""
    return _derived_id(cause, f"fill:{line[0]}:{line[1]}")


def _derived_id(cause: str, suffix: str) -> str:
    """`cause:suffix`, the cause hashed when that would be too long for an event id."""
    derived = f"{cause}:{suffix}"
    if len(derived) <= MAX_EVENT_ID:
        return derived
    return f"{hashlib.sha256(cause.encode()).hexdigest()[:40]}:{suffix}"

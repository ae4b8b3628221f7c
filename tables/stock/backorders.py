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
    Queue,
    QueueFill,
    Served,
    enqueue,
    promise,
    serve,
    withdraw,
)
from tables.stock.reservations import added_to_hold
from tables.stock.value import LineHolds, LineKey, Position, Reservation, SkuStock

RECENT_DEPTH = 32
"""How many messages' queue answers the row keeps, to send them again on a redelivery."""

QueueAnswer = BackorderFilled | BackorderPromised


class Sent(msgspec.Struct, frozen=True, array_like=True):
    """What the queue answered for one applied message."""

    event_id: str
    answers: tuple[QueueAnswer, ...]


class QueueRow(msgspec.Struct, frozen=True):
    """The stored row of a SKU's backorder queue (`tables.keys.queue_key`)."""

    entries: Queue = ()  # oldest order first
    recent: tuple[Sent, ...] = ()  # the answers of the last messages that had any

    def sent_for(self, event_id: str) -> tuple[QueueAnswer, ...]:
        """What the queue answered for `event_id`, if it is among the recent ones."""
        return next((sent.answers for sent in self.recent if sent.event_id == event_id), ())


class QueueStep(msgspec.Struct, frozen=True):
    """The queue's part of one message: positions, lines and the row it rewrote, its answers."""

    positions: tuple[Position, ...] = ()
    lines: tuple[tuple[LineKey, LineHolds], ...] = ()
    row: QueueRow | None = None  # None: unchanged
    answers: tuple[QueueAnswer, ...] = ()


HoldsOf = Callable[[LineKey], LineHolds]
"""An order line's holds on the SKU as they stand."""


def queue_step(
    before: SkuStock,
    after: SkuStock,
    message: StockInboxMessage,
    row: QueueRow,
    holds_of: HoldsOf,
    now: dt.datetime,
    today: dt.date,
) -> QueueStep:
    """Join or leave, serve the warehouses whose ATP rose, promise receipts; `after` is the
    SKU once the message's own rule applied, at version `before.version + 1`, and `today`
    the business day an overdue receipt is promised for."""
    entries = _joined_or_left(row.entries, message, holds_of, now)
    if not entries and not before.queued:
        return QueueStep()
    served = serve(after, entries, _risen(before, after))
    served_stock = _with(after, served.positions)
    promised = promise(served_stock, served.queue, today)
    lines = _filled_holds(served, holds_of, message.event_id)
    answers: tuple[QueueAnswer, ...] = (
        *_fill_answers(served, message.event_id, after),
        *_promise_answers(entries, promised.queue, message.event_id, after, before.version + 1),
    )
    recent = row.recent
    if answers:
        recent = (*recent, Sent(message.event_id, answers))[-RECENT_DEPTH:]
    return QueueStep(
        positions=promised.positions,
        lines=lines,
        row=QueueRow(promised.queue, recent),
        answers=answers,
    )


def _joined_or_left(
    entries: Queue, message: StockInboxMessage, holds_of: HoldsOf, now: dt.datetime
) -> Queue:
    """The queue after the message's own line joined it with what it lacks, or left it."""
    match message:
        case ReleaseReservation() | Deallocate():
            return withdraw(entries, (message.order_id, message.line_no))
        case ReserveLine(partial=True):
            held = sum(h.reserved + h.allocated for h in holds_of(_key(message)))
            return _join(entries, message, message.qty - held, now)
        case FillBackorder():
            held = sum(
                n for h in holds_of(_key(message)) for e, n in h.filled if e == message.event_id
            )
            return _join(entries, message, message.qty - held, now)
        case _:
            return entries


def _join(
    entries: Queue, message: ReserveLine | FillBackorder, qty: int, now: dt.datetime
) -> Queue:
    """`qty` of the message's line join the queue (nothing: unchanged)."""
    if qty <= 0:
        return entries
    backorder = Backorder(
        submitted_at=message.submitted_at or now,
        order_id=message.order_id,
        line_no=message.line_no,
        qty=qty,
        warehouse=message.warehouse,
        correlation_id=message.correlation_id,
    )
    return enqueue(entries, backorder)


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
    before: Queue, after: Queue, cause: str, stock: SkuStock, version: int
) -> tuple[BackorderPromised, ...]:
    """A BackorderPromised for each waiting line whose date is new or changed."""
    told = {entry.key: entry.promise_date for entry in before}
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
        for entry in after
        if entry.promise_date != told.get(entry.key)
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

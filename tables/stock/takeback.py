"""A shelf that holds less than is committed: reservations taken back, newest orders first.

When a stock fact (a count, an adjustment, a hold, units gone off the shelf) leaves a
warehouse with less on hand than is blocked, reserved and allocated there, reservations
there are taken back from the newest orders first (by submission, then order id and line)
until what is committed fits or nothing is reserved there any more. Each line taken back
is answered with LineTakenBack: its order backorders the units and looks for them
elsewhere. Allocations, released to the warehouse already, stay: the WMS picks short what
it does not find (`tables.stock.shelf.missing`), and its short pick backorders them. A
release that crossed a take-back allocates what the order released all the same
(`AllocateLine.fills`), and may itself leave the shelf holding less.
"""

import datetime as dt
import hashlib
from collections.abc import Iterable

import msgspec
from msgspec.structs import replace

from protocols.ids import EventId
from protocols.inventory import WmsStockEvent
from protocols.reservations import LineTakenBack, StockCommandMessage
from tables.stock.value import LineHolds, LineKey, Position, Reservation, SkuStock

_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_MAX_ID = 200  # protocols.ids.EventId
REMEMBERED_CAUSES = 8  # as an order's outbox: more than are applied between two commits

Cause = WmsStockEvent | StockCommandMessage
"""What can leave a shelf holding less: a WMS stock fact, or a line's units gone off it."""


class TakenBack(msgspec.Struct, frozen=True):
    """A position after its reservations were taken back, and the lines that gave them."""

    position: Position
    lines: dict[LineKey, LineHolds]  # each changed line's holds afterwards (empty: none)
    answers: tuple[LineTakenBack, ...]


def over_committed(position: Position) -> int:
    """Units blocked, reserved or allocated beyond what is on hand."""
    return max(0, position.blocked + position.reserved + position.allocated - position.on_hand)


def needs_take_back(position: Position) -> bool:
    """Whether reservations must give way: more is committed than on hand, some reserved."""
    return position.reserved > 0 and over_committed(position) > 0


def take_back(position: Position, lines: Iterable[LineHolds], cause: Cause) -> TakenBack:
    """Take back reservations at the position's warehouse, newest order first, until it fits."""
    due = min(over_committed(position), position.reserved)
    lines = list(lines)
    holds = {h.key: each for each in lines for h in each}
    newest = sorted(
        (h for each in lines for h in each if h.warehouse == position.warehouse and h.reserved),
        key=_submitted,
        reverse=True,
    )
    changed: dict[LineKey, LineHolds] = {}
    answers: list[LineTakenBack] = []
    for hold in newest:
        if not due:
            break
        qty = min(due, hold.reserved)
        due -= qty
        line = changed.get(hold.key, holds[hold.key])
        changed[hold.key] = _less_reserved(line, hold.warehouse, qty)
        answers.append(_answer(hold, qty, cause))
    taken = sum(answer.qty for answer in answers)
    return TakenBack(replace(position, reserved=position.reserved - taken), changed, tuple(answers))


def remembered(
    kept: tuple[LineTakenBack, ...], answers: Iterable[object]
) -> tuple[LineTakenBack, ...]:
    """The take-back answers to keep: those of the last REMEMBERED_CAUSES causes."""
    every = (*kept, *(a for a in answers if isinstance(a, LineTakenBack)))
    causes = list(dict.fromkeys(a.cause_id for a in every))[-REMEMBERED_CAUSES:]
    return tuple(a for a in every if a.cause_id in causes)


def taken_back_by(stock: SkuStock, cause_id: str) -> tuple[LineTakenBack, ...]:
    """What the stock fact `cause_id` took back, as remembered: a repeat sends it again."""
    return tuple(a for a in stock.taken_back if a.cause_id == cause_id)


def _submitted(hold: Reservation) -> tuple[dt.datetime, str, int]:
    """Sort key by submission (a hold that does not know its own counts as the oldest)."""
    return (hold.submitted_at or _OLDEST, hold.order_id, hold.line_no)


def _less_reserved(holds: LineHolds, warehouse: str, qty: int) -> LineHolds:
    """The line's holds with `qty` fewer reserved at `warehouse`; an empty hold is dropped."""
    after = (
        replace(h, reserved=h.reserved - qty) if h.warehouse == warehouse else h for h in holds
    )
    return tuple(h for h in after if h.reserved or h.allocated)


def _answer(hold: Reservation, qty: int, cause: Cause) -> LineTakenBack:
    """The order's answer; its id derives from the cause's, so a replay repeats it."""
    return LineTakenBack(
        event_id=_bounded(f"{cause.event_id}:back:{hold.order_id}:{hold.line_no}"),
        order_id=hold.order_id,
        line_no=hold.line_no,
        sku=cause.sku,
        qty=qty,
        correlation_id=cause.correlation_id,
        warehouse=hold.warehouse,
        cause=str(type(cause).__struct_config__.tag),
        cause_id=cause.event_id,
    )


def _bounded(event_id: str) -> EventId:
    """`event_id`, or a digest of it when it is longer than an event id may be."""
    if len(event_id) <= _MAX_ID:
        return event_id
    return "back:" + hashlib.blake2b(event_id.encode(), digest_size=20).hexdigest()

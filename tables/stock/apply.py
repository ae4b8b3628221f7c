"""One SKU's stock across its warehouses: the pure transition `apply` of the stock table."""

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeGuard, assert_never

import msgspec
from msgspec.structs import replace

from protocols.erp import (
    ExpectedReceipt,
    ExpectedReceiptCancelled,
    SafetyStockSet,
    SupplyMessage,
)
from protocols.inventory import (
    ShelfLineEvent,
    StockAdjusted,
    StockChanged,
    StockCounted,
    StockHoldChanged,
    StockPickedShort,
    StockReceived,
    StockShipped,
    WmsStockEvent,
)
from protocols.reservations import AllocateLine, LineTakenBack, StockCommand
from protocols.topics import StockInboxMessage
from tables.business_day import business_day
from tables.errors import InvalidStockChange
from tables.stock.backorders import HoldsOf, queue_step
from tables.stock.queue_rows import NoQueue, QueueChange, QueueReader
from tables.stock.reservations import Answers, answers_again, apply_command
from tables.stock.shelf import ShelfKind, holds_at, off_shelf, shelf_id
from tables.stock.takeback import Cause, needs_take_back, remembered, take_back, taken_back_by
from tables.stock.value import (
    IncomingSupply,
    LineHolds,
    LineKey,
    Position,
    Received,
    SkuStock,
    Supply,
    position_at,
    with_on_hand,
)

__all__ = ["Applied", "apply"]


class Applied(msgspec.Struct, frozen=True):
    """The outcome of applying one message: the new value and the events to publish."""

    stock: SkuStock
    changes: tuple[StockChanged, ...]
    duplicate: bool
    # for the order inbox, keyed by order id; a duplicate ReserveLine repeats its answer
    answers: Answers = ()
    holds: LineHolds = ()  # the order line's holds afterwards (a command's, a shelf event's)
    # other order lines' holds afterwards: filled from the backorder queue, or reservations
    # the shelf took back (empty: none left)
    lines: tuple[tuple[LineKey, LineHolds], ...] = ()
    queue: QueueChange | None = None  # what it did to the backorder queue's rows (None: nothing)
    # a shelf event for a line that holds nothing there: left to the order side's command
    # (`tables.stock.shelf`), so its id is not remembered as applied
    unheld: bool = False


NO_QUEUE = NoQueue()
"""The queue of a SKU nobody has backordered."""

Updates = dict[str, Position]
"""The positions a transition rewrote, by warehouse; absent ones are untouched."""

FactMessage = StockReceived | StockAdjusted | StockHoldChanged | StockCounted | SupplyMessage
"""A stock fact about positions alone, no order line in it."""


def apply(
    stock: SkuStock,
    message: StockInboxMessage,
    offset: int | None,
    now: dt.datetime,
    *,
    holds: LineHolds = (),
    seen: bool = False,
    queue: QueueReader = NO_QUEUE,
    holds_of: HoldsOf = lambda line: (),
    every_line: Callable[[], Iterable[LineHolds]] = tuple,
    zone: dt.tzinfo = dt.UTC,
) -> Applied:
    """Apply one message exactly once; raise InvalidStockChange and record nothing if invalid.

    `holds` are those of the order line a message names (none for other stock facts),
    `seen` whether the SKU already applied the message's event id (an upstream re-send);
    `queue` is the SKU's backorder queue, `holds_of` reads any other line's holds, and
    `every_line` every order line's holds on the SKU (read only when the shelf holds less
    than is committed: `tables.stock.takeback`); `zone` is the business day's time zone
    (`DISTGATE_TIMEZONE`), where "today" is for promise dates.
    """
    # offset None is a replay from outside the input topic: only the event id dedupes it
    if seen or stock.has_applied(offset):
        again = (
            *answers_again(stock, holds, message),
            *taken_back_by(stock, message.event_id),
            *queue.sent_for(message.event_id),
        )
        return Applied(stock=stock, changes=(), duplicate=True, answers=again, holds=holds)
    if message.sku != stock.sku:
        raise InvalidStockChange(
            "sku_mismatch", f"message for {message.sku!r} sent to the value of {stock.sku!r}"
        )
    updates, after, answers = _transition(stock, holds, message)
    unheld = isinstance(message, StockShipped | StockPickedShort) and not updates
    own = _line_of(message)
    lines: dict[LineKey, LineHolds] = {} if own is None else {own: after}
    if _may_take_back(message):
        answers = (*answers, *_take_back_where_short(updates, lines, every_line, message))
    step = queue_step(
        stock,
        _record(stock, dict(updates), offset),
        message,
        queue,
        lambda line: lines[line] if line in lines else holds_of(line),
        now,
        business_day(now, zone),
    )
    updates.update((p.warehouse, p) for p in step.positions)
    lines.update(step.lines)
    changes = tuple(
        _stock_changed(stock.sku, position, message, now)
        for position in _changed_positions(stock, updates)
    )
    new = _record(stock, dict(updates), offset)
    if step.change is not None:
        new = replace(new, queued=step.waiting)
    if any(isinstance(answer, LineTakenBack) for answer in answers):
        new = replace(new, taken_back=remembered(new.taken_back, answers))
    return Applied(
        stock=new,
        changes=changes,
        duplicate=False,
        answers=(*answers, *step.answers),
        holds=lines.pop(own) if own is not None else after,
        lines=tuple(lines.items()),
        queue=step.change,
        unheld=unheld,
    )


def _line_of(message: StockInboxMessage) -> LineKey | None:
    """The order line a command or a shelf event is about; None for a stock fact."""
    if isinstance(message, StockCommand | StockShipped | StockPickedShort):
        return (message.order_id, message.line_no)
    return None


def _take_back_where_short(
    updates: Updates,
    changed: dict[LineKey, LineHolds],
    every_line: Callable[[], Iterable[LineHolds]],
    cause: Cause,
) -> Answers:
    """Take back reservations wherever a rewritten position holds less than is committed.

    `updates` get the positions afterwards; `changed` are lines this message changed
    already (read before the stored ones), and get the lines taken back. The answers.
    """
    answers: Answers = ()
    for warehouse, position in updates.items():
        if needs_take_back(position):
            every = {h.key: each for each in every_line() for h in each} | changed
            outcome = take_back(position, every.values(), cause)
            updates[warehouse] = outcome.position
            changed |= outcome.lines
            answers = (*answers, *outcome.answers)
    return answers


def _may_take_back(message: StockInboxMessage) -> TypeGuard[Cause]:
    """Whether a message can leave the shelf holding less: a WMS fact, units off the shelf,
    or a release allocating units the shelf took back meanwhile."""
    return isinstance(message, WmsStockEvent | AllocateLine) or shelf_id(message) is not None


def _transition(
    stock: SkuStock, holds: LineHolds, message: StockInboxMessage
) -> tuple[Updates, LineHolds, Answers]:
    """An order line's command, or a stock rule (which leaves the lines' holds alone)."""
    if isinstance(message, StockCommand):
        outcome = apply_command(stock, holds, message)
        updates = {position.warehouse: position for position in outcome.positions}
        return updates, outcome.holds, outcome.answers
    if isinstance(message, StockShipped | StockPickedShort) and not holds_at(
        holds, message.warehouse
    ):
        return {}, holds, ()
    if isinstance(message, StockShipped | StockPickedShort):
        qty, kind = _shelf_effect(message)
        after, position = off_shelf(stock, holds, message.warehouse, qty, kind, message.event_id)
        return {message.warehouse: position}, after, ()
    return _stock_rule(stock, message), holds, ()


def _shelf_effect(message: ShelfLineEvent) -> tuple[int, ShelfKind]:
    """How many of a line's units left the shelf, and how."""
    if isinstance(message, StockShipped):
        return message.qty, "shipped"
    return message.short, "short"


def _stock_rule(stock: SkuStock, message: FactMessage) -> Updates:
    """Dispatch a WMS or ERP stock message to the rule for its type."""
    match message:
        case StockReceived():
            return _receive(stock, message)
        case StockAdjusted():
            return _adjust(stock, message)
        case StockCounted():
            return _count(stock, message)
        case StockHoldChanged():
            return _change_hold(stock, message)
        case SafetyStockSet():
            return _set_safety_stock(stock, message)
        case ExpectedReceipt():
            return _expect_receipt(stock, message)
        case ExpectedReceiptCancelled():
            return _without_po(stock, message.po_id)
        case _:
            assert_never(message)


def _receive(stock: SkuStock, message: StockReceived) -> Updates:
    """Goods in: on_hand grows, and the named PO's expected receipt here shrinks (remembered)."""
    before = position_at(stock, message.warehouse)
    p = replace(before, on_hand=before.on_hand + message.qty)
    if message.po_id is None:
        return {message.warehouse: p}
    po = message.po_id
    here = sum(n for of, n in p.received if of == po)
    received = _with_received(p.received, po, here + message.qty)
    return {
        message.warehouse: replace(
            p, incoming=_shrink_po(p.incoming, po, message.qty), received=received
        )
    }


def _received_of(stock: SkuStock, po_id: str) -> int:
    """Units received so far against `po_id`, wherever they arrived."""
    return sum(n for p in stock.positions for po, n in p.received if po == po_id)


def _with_received(received: Received, po_id: str, qty: int) -> Received:
    """`received` with `po_id` at `qty` (0: forgotten), sorted by po_id."""
    kept = [(po, n) for po, n in received if po != po_id]
    return tuple(sorted([*kept, (po_id, qty)] if qty else kept))


def _shrink_po(incoming: Supply, po_id: str, qty: int) -> Supply:
    """Reduce one PO's expected qty by what arrived; it is gone once nothing remains due."""
    shrunk = (replace(s, qty=s.qty - qty) if s.po_id == po_id else s for s in incoming)
    return tuple(s for s in shrunk if s.qty > 0)


def _adjust(stock: SkuStock, message: StockAdjusted) -> Updates:
    """A signed on_hand correction; going below zero is refused."""
    position = position_at(stock, message.warehouse)
    on_hand = position.on_hand + message.delta
    if on_hand < 0:
        raise InvalidStockChange(
            "negative_on_hand",
            f"adjust {message.delta:+d} on on_hand {position.on_hand} in {message.warehouse}",
        )
    return {message.warehouse: with_on_hand(position, on_hand)}


def _count(stock: SkuStock, message: StockCounted) -> Updates:
    """A cycle count sets on_hand to the counted figure."""
    return {message.warehouse: with_on_hand(position_at(stock, message.warehouse), message.on_hand)}


def _change_hold(stock: SkuStock, message: StockHoldChanged) -> Updates:
    """Block or unblock stock, within 0..on_hand."""
    position = position_at(stock, message.warehouse)
    blocked = position.blocked + message.delta
    where = f"hold {message.delta:+d} on blocked {position.blocked}, on_hand {position.on_hand}"
    if blocked < 0:
        raise InvalidStockChange("negative_blocked", f"{where} in {message.warehouse}")
    if blocked > position.on_hand:
        raise InvalidStockChange("hold_exceeds_on_hand", f"{where} in {message.warehouse}")
    return {message.warehouse: replace(position, blocked=blocked)}


def _set_safety_stock(stock: SkuStock, message: SafetyStockSet) -> Updates:
    """ERP fixes the quantity never to promise."""
    return {
        message.warehouse: replace(position_at(stock, message.warehouse), safety_stock=message.qty)
    }


def _expect_receipt(stock: SkuStock, message: ExpectedReceipt) -> Updates:
    """Upsert a PO line by po_id (moving it if it was expected elsewhere), less what arrived.

    ERP sends the PO's quantity; what receipts already brought in against it is not
    expected again, so a re-sent PO (a new ETA) never restores received units.
    """
    received = _received_of(stock, message.po_id)
    updates = _without_po(stock, message.po_id, forget=False)
    target = updates.get(message.warehouse) or position_at(stock, message.warehouse)
    due = message.qty - received
    if due > 0:
        supply = IncomingSupply(po_id=message.po_id, qty=due, eta=message.eta)
        target = replace(target, incoming=_by_eta((*target.incoming, supply)))
    updates[message.warehouse] = target
    return updates


def _without_po(stock: SkuStock, po_id: str, *, forget: bool = True) -> Updates:
    """The positions that expected `po_id`, without it (a SKU's po_id lives in one place).

    `forget`: the PO is cancelled, so what it received need not be remembered any more.
    """
    return {
        p.warehouse: replace(
            p,
            incoming=tuple(s for s in p.incoming if s.po_id != po_id),
            received=_with_received(p.received, po_id, 0) if forget else p.received,
        )
        for p in stock.positions
        if any(s.po_id == po_id for s in p.incoming)
        or (forget and any(po == po_id for po, _ in p.received))
    }


def _by_eta(incoming: Iterable[IncomingSupply]) -> Supply:
    """Incoming supply in the order it is due."""
    return tuple(sorted(incoming, key=lambda s: (s.eta, s.po_id)))


def _changed_positions(stock: SkuStock, updates: Updates) -> list[Position]:
    """Rewritten positions whose figures differ from before (a new one: from empty), by code."""
    changed = [p for w, p in updates.items() if p != position_at(stock, w)]
    return changed if len(changed) < 2 else sorted(changed, key=lambda p: p.warehouse)


def _record(stock: SkuStock, updates: Updates, offset: int | None) -> SkuStock:
    """The new value: positions merged, the delivery's offset remembered, the version bumped."""
    positions = tuple(updates.pop(p.warehouse, p) for p in stock.positions)
    if updates:  # a warehouse the SKU was never in: keep them sorted by code
        positions = tuple(sorted((*positions, *updates.values()), key=lambda p: p.warehouse))
    return replace(
        stock,
        positions=positions,
        last_offset=stock.last_offset if offset is None else offset,
        version=stock.version + 1,
    )


def _stock_changed(
    sku: str, position: Position, message: StockInboxMessage, now: dt.datetime
) -> StockChanged:
    """The published event for one changed position; its id is stable across replays."""
    return StockChanged(
        event_id=f"{message.event_id}:{position.warehouse}",
        sku=sku,
        warehouse=position.warehouse,
        on_hand=position.on_hand,
        blocked=position.blocked,
        reserved=position.reserved,
        allocated=position.allocated,
        safety_stock=position.safety_stock,
        atp=position.atp,
        cause=str(type(message).__struct_config__.tag),
        occurred_at=now,
    )

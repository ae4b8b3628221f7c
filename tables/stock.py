"""One SKU's stock across its warehouses: the pure transition `apply` of the stock table."""

import datetime as dt
from collections.abc import Iterable
from typing import assert_never

import msgspec
from msgspec.structs import replace

from protocols.erp import (
    ExpectedReceipt,
    ExpectedReceiptCancelled,
    SafetyStockSet,
    SupplyMessage,
)
from protocols.inventory import (
    StockAdjusted,
    StockChanged,
    StockCounted,
    StockHoldChanged,
    StockReceived,
    WmsStockEvent,
)
from protocols.reservations import StockCommand
from protocols.topics import StockInboxMessage
from tables.backorder_queue import waiting
from tables.errors import InvalidStockChange
from tables.reservations import Answers, answers_again, apply_command
from tables.stock_backorders import HoldsOf, QueueRow, queue_step
from tables.stock_value import (
    IncomingSupply,
    LineHolds,
    LineKey,
    Position,
    Received,
    Reservation,
    SkuStock,
    Supply,
    position_at,
    with_on_hand,
)

__all__ = [
    "Applied",
    "IncomingSupply",
    "Position",
    "Reservation",
    "SkuStock",
    "StockInboxMessage",
    "apply",
]


class Applied(msgspec.Struct, frozen=True):
    """The outcome of applying one message: the new value and the events to publish."""

    stock: SkuStock
    changes: tuple[StockChanged, ...]
    duplicate: bool
    # for the order inbox, keyed by order id; a duplicate ReserveLine repeats its answer
    answers: Answers = ()
    holds: LineHolds = ()  # a command's order line holds afterwards
    lines: tuple[tuple[LineKey, LineHolds], ...] = ()  # other lines' holds the queue filled
    queue: QueueRow | None = None  # the backorder queue's row afterwards (None: unchanged)


NO_QUEUE = QueueRow()
"""The queue of a SKU nobody has backordered."""

Updates = dict[str, Position]
"""The positions a transition rewrote, by warehouse; absent ones are untouched."""


def apply(
    stock: SkuStock,
    message: StockInboxMessage,
    offset: int | None,
    now: dt.datetime,
    *,
    holds: LineHolds = (),
    seen: bool = False,
    queue: QueueRow = NO_QUEUE,
    holds_of: HoldsOf = lambda line: (),
) -> Applied:
    """Apply one message exactly once; raise InvalidStockChange and record nothing if invalid.

    `holds` are those of the order line a command names (none for stock facts), `seen`
    whether the SKU already applied the message's event id (an upstream re-send); `queue`
    is the SKU's backorder queue and `holds_of` reads any other line's holds.
    """
    # offset None is a replay from outside the input topic: only the event id dedupes it
    if seen or stock.has_applied(offset):
        again = (*answers_again(stock, holds, message), *queue.sent_for(message.event_id))
        return Applied(stock=stock, changes=(), duplicate=True, answers=again, holds=holds)
    if message.sku != stock.sku:
        raise InvalidStockChange(
            "sku_mismatch", f"message for {message.sku!r} sent to the value of {stock.sku!r}"
        )
    updates, after, answers = _transition(stock, holds, message)
    own = _line_of(message)
    lines = dict([] if own is None else [(own, after)])
    step = queue_step(
        stock,
        _record(stock, dict(updates), offset),
        message,
        queue,
        lambda line: lines[line] if line in lines else holds_of(line),
        now,
    )
    updates.update((p.warehouse, p) for p in step.positions)
    lines.update(step.lines)
    changes = tuple(
        _stock_changed(stock.sku, position, message, now)
        for position in _changed_positions(stock, updates)
    )
    new = _record(stock, dict(updates), offset)
    if step.row is not None:
        new = replace(new, queued=waiting(step.row.entries))
    return Applied(
        stock=new,
        changes=changes,
        duplicate=False,
        answers=(*answers, *step.answers),
        holds=lines.pop(own) if own is not None else after,
        lines=tuple(lines.items()),
        queue=step.row,
    )


def _line_of(message: StockInboxMessage) -> LineKey | None:
    """The order line a command is about; None for a stock fact."""
    if isinstance(message, StockCommand):
        return (message.order_id, message.line_no)
    return None


def _transition(
    stock: SkuStock, holds: LineHolds, message: StockInboxMessage
) -> tuple[Updates, LineHolds, Answers]:
    """An order line's command, or a stock rule (which leaves the lines' holds alone)."""
    if isinstance(message, StockCommand):
        outcome = apply_command(stock, holds, message)
        updates = {position.warehouse: position for position in outcome.positions}
        return updates, outcome.holds, outcome.answers
    return _stock_rule(stock, message), holds, ()


def _stock_rule(stock: SkuStock, message: WmsStockEvent | SupplyMessage) -> Updates:
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

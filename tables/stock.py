"""One SKU's stock across its warehouses (the stock table value) and its pure transition."""

import datetime as dt
from collections.abc import Iterable
from typing import assert_never

import msgspec
from msgspec.structs import replace

from protocols.erp import ExpectedReceipt, ExpectedReceiptCancelled, SafetyStockSet
from protocols.inventory import (
    StockAdjusted,
    StockChanged,
    StockCounted,
    StockHoldChanged,
    StockReceived,
)
from protocols.topics import StockInboxMessage
from tables.errors import InvalidStockChange

DEDUPE_WINDOW = 64
"""How many applied event ids a SKU remembers, to drop upstream re-sends at new offsets."""


class IncomingSupply(msgspec.Struct, frozen=True):
    """An open purchase order line expected at a warehouse."""

    po_id: str
    qty: int
    eta: dt.date


Supply = tuple[IncomingSupply, ...]


class Position(msgspec.Struct, frozen=True):
    """One SKU in one warehouse: the figures ATP is computed from."""

    warehouse: str
    on_hand: int = 0
    blocked: int = 0
    reserved: int = 0
    allocated: int = 0
    safety_stock: int = 0
    incoming: Supply = ()  # sorted by (eta, po_id)

    @property
    def net_available(self) -> int:
        """Stock free to promise before clamping; negative when commitments exceed it."""
        return self.on_hand - self.blocked - self.reserved - self.allocated - self.safety_stock

    @property
    def atp(self) -> int:
        """Available to promise now (CONTRACT 5), never negative."""
        return max(0, self.net_available)


class SkuStock(msgspec.Struct, frozen=True):
    """The stock table value for one SKU: its positions and what makes applying idempotent."""

    sku: str
    positions: tuple[Position, ...] = ()  # sorted by warehouse code
    last_offset: int = -1  # highest input offset applied; the input has one partition per SKU
    recent_event_ids: tuple[str, ...] = ()  # newest last, at most DEDUPE_WINDOW
    version: int = 0  # bumped on every applied message

    def position(self, warehouse: str) -> Position | None:
        """The position in `warehouse`, or None if the SKU was never seen there."""
        for position in self.positions:
            if position.warehouse == warehouse:
                return position
        return None

    def has_applied(self, event_id: str, offset: int | None) -> bool:
        """Whether this delivery repeats one already applied (same offset or same event id)."""
        if offset is not None and offset <= self.last_offset:
            return True
        return event_id in self.recent_event_ids


class Applied(msgspec.Struct, frozen=True):
    """The outcome of applying one message: the new value and the events to publish."""

    stock: SkuStock
    changes: tuple[StockChanged, ...]
    duplicate: bool


Updates = dict[str, Position]
"""The positions a transition rewrote, by warehouse; absent ones are untouched."""


def apply(
    stock: SkuStock, message: StockInboxMessage, offset: int | None, now: dt.datetime
) -> Applied:
    """Apply one message exactly once; raise InvalidStockChange and record nothing if invalid."""
    # offset None is a replay from outside the input topic: only the event id dedupes it
    if stock.has_applied(message.event_id, offset):
        return Applied(stock=stock, changes=(), duplicate=True)
    if message.sku != stock.sku:
        raise InvalidStockChange(
            "sku_mismatch", f"message for {message.sku!r} sent to the value of {stock.sku!r}"
        )
    updates = _transition(stock, message)
    changes = tuple(
        _stock_changed(stock.sku, position, message, now)
        for position in _changed_positions(stock, updates)
    )
    return Applied(
        stock=_record(stock, updates, message.event_id, offset), changes=changes, duplicate=False
    )


def _transition(stock: SkuStock, message: StockInboxMessage) -> Updates:
    """Dispatch to the rule for the message's type."""
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


def _at(stock: SkuStock, warehouse: str) -> Position:
    """The position in `warehouse`, created empty on first touch."""
    position = stock.position(warehouse)
    return Position(warehouse=warehouse) if position is None else position


def _receive(stock: SkuStock, message: StockReceived) -> Updates:
    """Goods in: on_hand grows, and the named PO's expected receipt here shrinks."""
    p = _at(stock, message.warehouse)
    due = (
        p.incoming if message.po_id is None else _shrink_po(p.incoming, message.po_id, message.qty)
    )
    return {message.warehouse: replace(p, on_hand=p.on_hand + message.qty, incoming=due)}


def _shrink_po(incoming: Supply, po_id: str, qty: int) -> Supply:
    """Reduce one PO's expected qty by what arrived; it is gone once nothing remains due."""
    shrunk = (replace(s, qty=s.qty - qty) if s.po_id == po_id else s for s in incoming)
    return tuple(s for s in shrunk if s.qty > 0)


def _adjust(stock: SkuStock, message: StockAdjusted) -> Updates:
    """A signed on_hand correction; going below zero is refused."""
    position = _at(stock, message.warehouse)
    on_hand = position.on_hand + message.delta
    if on_hand < 0:
        raise InvalidStockChange(
            "negative_on_hand",
            f"adjust {message.delta:+d} on on_hand {position.on_hand} in {message.warehouse}",
        )
    return {message.warehouse: _with_on_hand(position, on_hand)}


def _count(stock: SkuStock, message: StockCounted) -> Updates:
    """A cycle count sets on_hand to the counted figure."""
    return {message.warehouse: _with_on_hand(_at(stock, message.warehouse), message.on_hand)}


def _with_on_hand(position: Position, on_hand: int) -> Position:
    """New on_hand; blocked stock cannot outnumber the stock that is physically there."""
    return replace(position, on_hand=on_hand, blocked=min(position.blocked, on_hand))


def _change_hold(stock: SkuStock, message: StockHoldChanged) -> Updates:
    """Block or unblock stock, within 0..on_hand."""
    position = _at(stock, message.warehouse)
    blocked = position.blocked + message.delta
    where = f"hold {message.delta:+d} on blocked {position.blocked}, on_hand {position.on_hand}"
    if blocked < 0:
        raise InvalidStockChange("negative_blocked", f"{where} in {message.warehouse}")
    if blocked > position.on_hand:
        raise InvalidStockChange("hold_exceeds_on_hand", f"{where} in {message.warehouse}")
    return {message.warehouse: replace(position, blocked=blocked)}


def _set_safety_stock(stock: SkuStock, message: SafetyStockSet) -> Updates:
    """ERP fixes the quantity never to promise."""
    return {message.warehouse: replace(_at(stock, message.warehouse), safety_stock=message.qty)}


def _expect_receipt(stock: SkuStock, message: ExpectedReceipt) -> Updates:
    """Upsert a PO line by po_id, moving it if it was expected at another warehouse."""
    updates = _without_po(stock, message.po_id)
    target = updates.get(message.warehouse) or _at(stock, message.warehouse)
    supply = IncomingSupply(po_id=message.po_id, qty=message.qty, eta=message.eta)
    updates[message.warehouse] = replace(target, incoming=_by_eta((*target.incoming, supply)))
    return updates


def _without_po(stock: SkuStock, po_id: str) -> Updates:
    """The positions that expected `po_id`, without it (a SKU's po_id lives in one place)."""
    return {
        p.warehouse: replace(p, incoming=tuple(s for s in p.incoming if s.po_id != po_id))
        for p in stock.positions
        if any(s.po_id == po_id for s in p.incoming)
    }


def _by_eta(incoming: Iterable[IncomingSupply]) -> Supply:
    """Incoming supply in the order it is due."""
    return tuple(sorted(incoming, key=lambda s: (s.eta, s.po_id)))


def _changed_positions(stock: SkuStock, updates: Updates) -> list[Position]:
    """Rewritten positions whose figures differ from before (a new one: from empty), by code."""
    return [
        position
        for warehouse, position in sorted(updates.items())
        if position != _at(stock, warehouse)
    ]


def _record(stock: SkuStock, updates: Updates, event_id: str, offset: int | None) -> SkuStock:
    """The new value: positions merged, the delivery remembered, the version bumped."""
    merged = {p.warehouse: p for p in stock.positions} | updates
    return replace(
        stock,
        positions=tuple(merged[w] for w in sorted(merged)),
        last_offset=stock.last_offset if offset is None else offset,
        recent_event_ids=(*stock.recent_event_ids, event_id)[-DEDUPE_WINDOW:],
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

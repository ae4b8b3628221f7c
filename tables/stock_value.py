"""The stock table's value: one SKU's positions per warehouse and its order lines' holds."""

import datetime as dt
from bisect import bisect_left

import msgspec
from msgspec.structs import replace

LineKey = tuple[str, int]
"""An order line: (order_id, line_no)."""


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


class Reservation(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One order line's hold on one position: what it still has reserved and allocated."""

    # A hot SKU holds hundreds of these and every event rewrites the whole value to the
    # changelog: encoded as arrays they take a third of the bytes. So new fields go last,
    # with defaults. gc=False: only strings and ints inside, never part of a cycle.

    order_id: str
    line_no: int
    warehouse: str
    reserved: int
    allocated: int
    # ids of the short picks and shipments applied to this line: they are deltas, and a
    # re-send of one may come after the SKU's dedupe window has moved on
    steps: tuple[str, ...] = ()

    @property
    def key(self) -> LineKey:
        """The order line this record belongs to."""
        return (self.order_id, self.line_no)


Reservations = tuple[Reservation, ...]


class SkuStock(msgspec.Struct, frozen=True):
    """The stock table value for one SKU: its positions and what makes applying idempotent."""

    sku: str
    positions: tuple[Position, ...] = ()  # sorted by warehouse code
    last_offset: int = -1  # highest input offset applied; the input has one partition per SKU
    recent_event_ids: tuple[str, ...] = ()  # newest last, at most the dedupe window
    version: int = 0  # bumped on every applied message
    reservations: Reservations = ()  # sorted by (order_id, line_no); none holds nothing

    def position(self, warehouse: str) -> Position | None:
        """The position in `warehouse`, or None if the SKU was never seen there."""
        for position in self.positions:
            if position.warehouse == warehouse:
                return position
        return None

    def reservation(self, order_id: str, line_no: int) -> Reservation | None:
        """The hold of one order line, or None if it holds nothing here."""
        key = (order_id, line_no)
        index = _line_index(self.reservations, key)
        return self.reservations[index] if _holds(self.reservations, index, key) else None

    def has_applied(self, event_id: str, offset: int | None) -> bool:
        """Whether this delivery repeats one already applied (same offset or same event id)."""
        if offset is not None and offset <= self.last_offset:
            return True
        return event_id in self.recent_event_ids


def position_at(stock: SkuStock, warehouse: str) -> Position:
    """The position in `warehouse`, created empty on first touch."""
    position = stock.position(warehouse)
    return Position(warehouse=warehouse) if position is None else position


def with_on_hand(position: Position, on_hand: int) -> Position:
    """New on_hand; blocked stock cannot outnumber the stock that is physically there."""
    return replace(position, on_hand=on_hand, blocked=min(position.blocked, on_hand))


def with_line(records: Reservations, key: LineKey, record: Reservation | None) -> Reservations:
    """`records` with line `key`'s record replaced by `record` (None: removed), still sorted."""
    index = _line_index(records, key)
    rest = index + 1 if _holds(records, index, key) else index
    return records[:index] + (() if record is None else (record,)) + records[rest:]


def _line_index(records: Reservations, key: LineKey) -> int:
    """Where line `key` is, or would be inserted, in records sorted by line."""
    return bisect_left(records, key, key=lambda r: r.key)


def _holds(records: Reservations, index: int, key: LineKey) -> bool:
    """Whether the record at `index` is line `key`'s."""
    return index < len(records) and records[index].key == key

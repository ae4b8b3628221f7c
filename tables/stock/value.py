"""The stock table's rows: one SKU's positions per warehouse, and one row per order line's hold."""

import datetime as dt

import msgspec
from msgspec.structs import replace

from protocols.reservations import LineTakenBack

LineKey = tuple[str, int]
"""An order line: (order_id, line_no)."""


class IncomingSupply(msgspec.Struct, frozen=True):
    """An open purchase order line expected at a warehouse."""

    po_id: str
    qty: int
    eta: dt.date
    promised: int = 0  # of `qty`, units already promised to the SKU's backordered lines

    @property
    def unpromised(self) -> int:
        """Units of this receipt nobody waiting in the backorder queue was promised."""
        return self.qty - self.promised


Supply = tuple[IncomingSupply, ...]

Received = tuple[tuple[str, int], ...]
"""(po_id, units received) for each PO a receipt named: kept while ERP may re-send the PO."""


class Position(msgspec.Struct, frozen=True):
    """One SKU in one warehouse: the figures ATP is computed from."""

    warehouse: str
    on_hand: int = 0
    blocked: int = 0
    reserved: int = 0
    allocated: int = 0
    safety_stock: int = 0
    incoming: Supply = ()  # sorted by (eta, po_id); each PO's qty still expected
    received: Received = ()  # sorted by po_id

    @property
    def net_available(self) -> int:
        """Stock free to promise before clamping; negative when commitments exceed it."""
        return self.on_hand - self.blocked - self.reserved - self.allocated - self.safety_stock

    @property
    def atp(self) -> int:
        """Available to promise now (CONTRACT 5), never negative."""
        return max(0, self.net_available)


class Reservation(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One order line's hold on one position: what it still has reserved and allocated.

    A row of its own beside the SKU's value (`tables.keys.line_key`), so an event on a SKU
    with thousands of open lines reads and writes only the line it is about.
    """

    # Encoded as arrays: a third of the bytes. So new fields go last, with defaults.
    # gc=False: only strings and ints inside, never part of a cycle.

    order_id: str
    line_no: int
    warehouse: str
    reserved: int
    allocated: int
    # ids of the short picks, shipments and named allocations applied to this line: deltas
    steps: tuple[str, ...] = ()
    # (FillBackorder id, units) added to this hold: a repeated fill answers what it held
    filled: tuple[tuple[str, int], ...] = ()
    # when the order was submitted (None: held before this was kept): a shelf that holds
    # less than is committed takes back the newest orders' reservations first
    submitted_at: dt.datetime | None = None

    @property
    def key(self) -> LineKey:
        """The order line this record belongs to."""
        return (self.order_id, self.line_no)


LineHolds = tuple[Reservation, ...]
"""One order line's holds on a SKU, one per warehouse it was filled from, in fill order."""


class SkuStock(msgspec.Struct, frozen=True):
    """The stock table value for one SKU: its positions, and the last input offset applied.

    Small whatever the SKU's traffic: order lines' holds and the ids already applied are
    rows of their own (`tables.keys`), so an ATP read decodes a few hundred bytes; the
    take-back answers kept are those of the last few causes only (usually none).
    """

    sku: str
    positions: tuple[Position, ...] = ()  # sorted by warehouse code
    last_offset: int = -1  # highest input offset applied; the input has one partition per SKU
    version: int = 0  # bumped on every applied message
    queued: int = 0  # backordered units waiting in the SKU's queue (its own row)
    # the answers of the last few stock facts that took reservations back: a crash may lose
    # them after the value was written, and the fact, delivered again, sends them again
    taken_back: tuple[LineTakenBack, ...] = ()

    def position(self, warehouse: str) -> Position | None:
        """The position in `warehouse`, or None if the SKU was never seen there."""
        for position in self.positions:
            if position.warehouse == warehouse:
                return position
        return None

    def has_applied(self, offset: int | None) -> bool:
        """Whether this delivery is a Kafka redelivery of an offset already applied."""
        return offset is not None and offset <= self.last_offset


def position_at(stock: SkuStock, warehouse: str) -> Position:
    """The position in `warehouse`, created empty on first touch."""
    position = stock.position(warehouse)
    return Position(warehouse=warehouse) if position is None else position


def with_on_hand(position: Position, on_hand: int) -> Position:
    """New on_hand; blocked stock cannot outnumber the stock that is physically there."""
    return replace(position, on_hand=on_hand, blocked=min(position.blocked, on_hand))

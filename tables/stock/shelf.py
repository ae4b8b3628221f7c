"""What left the shelf, in the WMS's order: a line's shipped or short-picked units.

The bridge sends each ShipConfirm and short PickConfirm line's stock effect straight to
the SKU's inbox (`StockShipped`, `StockPickedShort`), beside the warehouse's counts and
adjustments, so they apply in the order the WMS sent them. The order side's own
RecordShipment or RecordShortPick for the same line names the same WMS line (`wms_id`):
whichever comes first applies the effect, and the other is a duplicate (`shelf_id`).

The effect is decided from the stock side's own figures, so it is the same whichever
applies it: the line's allocation there gives up what it has of the units (a line whose
allocation a cancel freed meanwhile gives nothing), and on hand loses them. Units picked
short that a count already found missing, or that are on hold, (`missing`) do not leave
on hand twice; that holds for a line whose allocation there is gone too (cancelled, or
taken back while its release was on its way): the WMS still looked for its units. A line
that holds nothing there when the bridge's event comes is left to the order side
(`holds_at`).
"""

from typing import Literal

from msgspec.structs import replace

from protocols.inventory import StockPickedShort, StockShipped
from protocols.reservations import RecordShipment, RecordShortPick
from protocols.topics import StockInboxMessage
from tables.errors import InvalidStockChange
from tables.stock.value import LineHolds, Position, SkuStock, position_at, with_on_hand

ShelfKind = Literal["shipped", "short"]


def shelf_id(message: StockInboxMessage) -> str | None:
    """The WMS line a message takes off the shelf (applied once), or None for any other."""
    if isinstance(message, StockShipped | StockPickedShort):
        return message.event_id
    if isinstance(message, RecordShipment | RecordShortPick):
        return message.wms_id
    return None


def holds_at(holds: LineHolds, warehouse: str) -> bool:
    """Whether the line holds anything at `warehouse`: if not, its shelf event waits.

    The stock side cannot tell a shipment after a cancel (its allocation freed) from one
    of a line never released there; the order side can, and its RecordShipment or
    RecordShortPick (`after_cancel`) takes the units off then, or it dead-letters them.
    """
    return any(h.warehouse == warehouse for h in holds)


def missing(position: Position, unallocated: int) -> int:
    """Allocated units the shelf cannot hold: a count or adjustment found fewer than that.

    Released to the warehouse already, they stay allocated until the WMS picks: it picks
    short what it does not find, and those units left on hand when they were counted.
    `unallocated` more were released there but are no longer allocated (a cancel freed
    them, or a take-back crossed their release): the WMS looked for them all the same.
    """
    return max(0, position.allocated + unallocated + position.blocked - position.on_hand)


def off_shelf(
    stock: SkuStock,
    holds: LineHolds,
    warehouse: str,
    qty: int,
    kind: ShelfKind,
    wms_id: str,
) -> tuple[LineHolds, Position]:
    """The line's holds and the position after `qty` of its units left the shelf at `warehouse`."""
    position = position_at(stock, warehouse)
    hold = next((h for h in holds if h.warehouse == warehouse), None)
    if hold is not None and wms_id in hold.steps:
        return holds, position  # the hold remembers it, past the dedupe period too
    taken = 0 if hold is None else min(qty, hold.allocated)
    gone = qty if kind == "shipped" else _short_gone(position, qty, qty - taken)
    if gone > position.on_hand:
        where = f"on_hand {position.on_hand} in {warehouse}"
        raise InvalidStockChange("negative_on_hand", f"{qty} shipped by {wms_id} out of {where}")
    position = replace(
        with_on_hand(position, position.on_hand - gone), allocated=position.allocated - taken
    )
    if hold is None:
        return holds, position
    after = replace(hold, allocated=hold.allocated - taken, steps=(*hold.steps, wms_id))
    kept = tuple(
        after if h is hold else h
        for h in holds
        if h is not hold or after.reserved or after.allocated
    )
    return kept, position


def _short_gone(position: Position, short: int, unallocated: int) -> int:
    """Units picked short that leave on hand: those the position's figures do not explain."""
    return min(position.on_hand, short - min(short, missing(position, unallocated)))

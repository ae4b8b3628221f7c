"""The order side's commands to the stock side (keyed by SKU) and the stock side's answers.

Every command names one order line; the stock value keeps one reservation record per
order line, so each command is idempotent by construction and never drives a figure
below zero. Event ids are derived from order, line and step, so a re-sent command
carries the same id.
"""

import datetime as dt

import msgspec

from protocols.ids import EventId, OrderId, Qty, Sku, Warehouse
from protocols.orders import LineNo


class Fill(msgspec.Struct, frozen=True):
    """Part of a line reserved in one warehouse."""

    warehouse: Warehouse
    qty: Qty


class StockCommand(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of an order line's instruction to the stock of one SKU."""

    event_id: EventId
    sku: Sku
    order_id: OrderId
    line_no: LineNo
    correlation_id: str = ""


class ReserveLine(StockCommand, frozen=True, tag="ReserveLine"):
    """Reserve `qty` at `warehouse`, or where the sourcing rule finds it; answer either way.

    `partial` (the order allows backorders): take what there is, from the largest ATP
    down, instead of all or nothing from one warehouse; the rest waits in the SKU's
    backorder queue, whose place `submitted_at` (the order's submission) decides.
    """

    qty: Qty
    warehouse: Warehouse | None = None
    partial: bool = False
    submitted_at: dt.datetime | None = None  # the order's: a shelf that holds less takes the newest


class ReleaseReservation(StockCommand, frozen=True, tag="ReleaseReservation"):
    """Give back whatever this line still holds reserved; it leaves the backorder queue."""


class AllocateLine(StockCommand, frozen=True, tag="AllocateLine"):
    """Turn this line's reservation into an allocation (the order was confirmed).

    `fills`: the units the order released to each warehouse; they are allocated even
    where the shelf took the reservation back meanwhile (the WMS has them and picks short
    what it does not find). Empty (sent before releases named them): all reserved.
    """

    fills: tuple[Fill, ...] = ()


class RecordShortPick(StockCommand, frozen=True, tag="RecordShortPick"):
    """The WMS picked `short` fewer than allocated: they are not on hand after all.

    `after_cancel`: the line was cancelled after its release and its allocation freed,
    but the warehouse had picked before it read the Cancel; `warehouse` says where.
    """

    short: Qty
    after_cancel: bool = False
    warehouse: Warehouse | None = None
    wms_id: EventId | None = None  # the PickConfirm line's `wms:<WAREHOUSE>:<txn>:<line no>`


class RecordShipment(StockCommand, frozen=True, tag="RecordShipment"):
    """`qty` of this line's allocation left the warehouse (`after_cancel`: as above).

    With `wms_id` (as RecordShortPick), the bridge's own event for the same WMS line
    (`protocols.inventory.StockShipped`) usually took the units out already, in the WMS's
    order; the stock side applies the two once between them, whichever comes first.
    """

    qty: Qty
    after_cancel: bool = False
    warehouse: Warehouse | None = None
    wms_id: EventId | None = None  # the ShipConfirm line's, as the bridge's StockShipped has it


class Deallocate(StockCommand, frozen=True, tag="Deallocate"):
    """Cancelled after release: give back what this line still holds; it leaves the queue."""


class FillBackorder(StockCommand, frozen=True, tag="FillBackorder"):
    """`qty` more of this line are backordered (picked short): hold what ATP there is for them.

    Filled like a partial ReserveLine, from `warehouse` if the line asked for one, from
    `short_at` (the warehouse that just did not find them) only what no other can give:
    the short pick or count already took the missing units off its on hand, so its ATP
    is real. Added to the line's holds; answered with BackorderFilled either way. What it
    cannot hold waits in the SKU's backorder queue, in the place of `submitted_at`.
    """

    qty: Qty
    warehouse: Warehouse | None = None
    short_at: Warehouse | None = None
    submitted_at: dt.datetime | None = None  # as on ReserveLine


StockCommandMessage = (
    ReserveLine
    | ReleaseReservation
    | AllocateLine
    | RecordShortPick
    | RecordShipment
    | Deallocate
    | FillBackorder
)


class ReservationAnswer(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of the stock side's answer to ReserveLine, sent to the order inbox."""

    event_id: EventId
    order_id: OrderId
    line_no: LineNo
    sku: Sku
    qty: Qty
    correlation_id: str = ""


class LineReserved(ReservationAnswer, frozen=True, tag="LineReserved"):
    """The line is reserved: wholly at `warehouse`, or as `fills` say when given.

    `fills` (a partial or multi-warehouse fill) lists each warehouse's part, largest ATP
    first, `warehouse` being the first; what they leave of `qty` is backordered.
    """

    warehouse: Warehouse
    fills: tuple[Fill, ...] = ()

    def filled(self) -> tuple[Fill, ...]:
        """Every warehouse's part; an answer without `fills` holds all of `qty` at `warehouse`."""
        return self.fills or (Fill(self.warehouse, self.qty),)


class LineUnreservable(ReservationAnswer, frozen=True, tag="LineUnreservable"):
    """No (asked) warehouse's ATP covers `qty`; `atp` is the best there was."""

    atp: int


class BackorderFilled(ReservationAnswer, frozen=True, tag="BackorderFilled"):
    """Of `qty` backordered units, `fills` are now reserved (none: nothing was free).

    The answer to a FillBackorder, or the backorder queue serving the line when ATP rose.
    """

    fills: tuple[Fill, ...] = ()


class BackorderPromised(ReservationAnswer, frozen=True, tag="BackorderPromised"):
    """The `qty` units the line waits for are due by `promise_date` (None: no receipt covers them).

    Sent when the date changes; `as_of` (the SKU's version) orders the promises of a line.
    """

    promise_date: dt.date | None
    as_of: int


class LineTakenBack(ReservationAnswer, frozen=True, tag="LineTakenBack"):
    """`qty` of the line's reservation at `warehouse` is gone: the shelf there holds less.

    A stock fact (`cause`: its type, e.g. StockCounted; `cause_id`: its event id) left
    fewer units than were committed, and reservations are taken back from the newest
    orders first. The order backorders them and looks for them elsewhere.
    """

    warehouse: Warehouse
    cause: str
    cause_id: EventId


ReservationAnswerMessage = (
    LineReserved | LineUnreservable | BackorderFilled | BackorderPromised | LineTakenBack
)

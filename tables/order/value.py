"""The order table value: one order, its lines, and what makes applying idempotent."""

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import msgspec
from msgspec.structs import replace

from protocols.orders import (
    BackorderPolicy,
    CancelReason,
    LineFill,
    LineStatus,
    OrderEvent,
    OrderLineState,
    OrderStatus,
    Shipment,
    ShipmentLine,
)
from protocols.reservations import StockCommandMessage
from protocols.wms_events import WmsCommandMessage
from tables.errors import DomainError

OUTBOX_DEPTH = 8  # one order rarely sees more messages between two offset commits
"""How many applied messages' sends an order keeps, to send them again on a redelivery."""

FINAL = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.INVOICED})
"""Statuses an order never leaves."""

_STAGE = {
    OrderStatus.SUBMITTED: 0,
    OrderStatus.RESERVED: 1,
    OrderStatus.BACKORDERED: 1,
    OrderStatus.CREDIT_HOLD: 2,
    OrderStatus.CONFIRMED: 3,
    OrderStatus.RELEASED: 4,
    OrderStatus.PICKED: 5,
    OrderStatus.PARTIALLY_SHIPPED: 6,
    OrderStatus.SHIPPED: 7,
    OrderStatus.INVOICED: 8,
}
_RELEASED_LINE = frozenset({LineStatus.RELEASED, LineStatus.PICKED, LineStatus.SHIPPED})


class InvalidOrderTransition(DomainError):
    """An order message the lifecycle does not allow; it is dead-lettered, never applied."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def not_allowed(order: "Order", event_id: str) -> InvalidOrderTransition:
    """The error for a message the order's status does not accept."""
    return InvalidOrderTransition(
        "status_not_allowed", f"{event_id} for order {order.order_id} in {order.status}"
    )


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """The part of an order line one warehouse serves: held, released, picked, shipped there."""

    warehouse: str
    reserved: int = 0
    allocated: int = 0
    picked: int = 0
    shipped: int = 0
    released: int = 0  # units its Release asked the warehouse for (kept after a cancel)
    pick_confirmed: bool = False  # the warehouse confirmed its one pick (possibly all short)

    def state(self) -> LineFill:
        """The fill as events and the HTTP API show it."""
        return LineFill(
            warehouse=self.warehouse,
            reserved=self.reserved,
            allocated=self.allocated,
            picked=self.picked,
            shipped=self.shipped,
        )


class OrderLine(msgspec.Struct, frozen=True, kw_only=True):
    """One order line: the warehouses that serve it, what is backordered or cancelled.

    Its totals are the sums of its fills; with `backordered` and `cancelled` they make up
    `qty` once the stock side answered (CONTRACT 8).
    """

    line_no: int
    sku: str
    qty: int
    # the asked warehouse (None: anywhere); a line stored by the release before has the
    # one it was reserved at here, which is where it would have been asked anyway
    warehouse: str | None = None
    status: LineStatus = LineStatus.SUBMITTED
    backordered: int = 0
    cancelled: int = 0
    resolved: bool = False  # the stock side answered this line's ReserveLine
    fills: tuple[Fill, ...] = ()  # in the order filled; a warehouse once per Release it got
    shorts: int = 0  # picks of this line that came up short, numbering their commands
    # the WMS confirmations (pick, ship) applied to this line, for its life: a re-send of
    # one, however late, changes nothing
    confirmations: tuple[str, ...] = ()
    # when expected receipts cover the backordered units, as the stock side last said
    # (at its SKU version `promise_as_of`)
    promise_date: dt.date | None = None
    promise_as_of: int = 0

    @property
    def reserved(self) -> int:
        """Units held reserved, over every warehouse."""
        return sum(fill.reserved for fill in self.fills)

    @property
    def allocated(self) -> int:
        """Units allocated (released, not yet shipped), over every warehouse."""
        return sum(fill.allocated for fill in self.fills)

    @property
    def picked(self) -> int:
        """Units picked, over every warehouse."""
        return sum(fill.picked for fill in self.fills)

    @property
    def shipped(self) -> int:
        """Units shipped, over every warehouse."""
        return sum(fill.shipped for fill in self.fills)

    @property
    def released(self) -> int:
        """Units the line's Releases asked for, over every warehouse."""
        return sum(fill.released for fill in self.fills)

    @property
    def outstanding(self) -> int:
        """Units neither shipped, backordered nor cancelled: still to go out."""
        return self.qty - self.shipped - self.backordered - self.cancelled

    @property
    def was_released(self) -> bool:
        """Whether the line went to its warehouse, to be picked, shipped or cancelled there."""
        return self.status in _RELEASED_LINE

    @property
    def open(self) -> int:
        """Units neither shipped nor cancelled: the order still owes them."""
        return self.qty - self.shipped - self.cancelled

    def released_at(self, warehouse: str) -> list[int]:
        """Positions in `fills` of the parts released to `warehouse`, in release order."""
        return [n for n, f in enumerate(self.fills) if f.warehouse == warehouse and f.released]

    def confirmed_by(self, event_id: str) -> "OrderLine":
        """The line with the WMS confirmation `event_id` remembered as applied."""
        return replace(self, confirmations=(*self.confirmations, event_id))

    def picked_short(self) -> "OrderLine":
        """The line with one more short pick counted."""
        return replace(self, shorts=self.shorts + 1)

    def with_fill(self, at: int, fill: Fill) -> "OrderLine":
        """The line with the fill at position `at` replaced."""
        return replace(self, fills=(*self.fills[:at], fill, *self.fills[at + 1 :]))

    def state(self) -> OrderLineState:
        """The line as events and the HTTP API show it."""
        return OrderLineState(
            line_no=self.line_no,
            sku=self.sku,
            qty=self.qty,
            warehouse=self.fills[0].warehouse if self.fills else self.warehouse,
            status=self.status,
            reserved=self.reserved,
            allocated=self.allocated,
            picked=self.picked,
            shipped=self.shipped,
            backordered=self.backordered,
            cancelled=self.cancelled,
            fills=tuple(fill.state() for fill in self.fills),
            promise_date=self.promise_date if self.backordered else None,
        )


class ShipmentRecord(msgspec.Struct, frozen=True, array_like=True):
    """One shipment confirmation the order took: where, carrier, tracking, units per line."""

    warehouse: str
    carrier: str | None
    tracking: str | None
    lines: tuple[tuple[int, int], ...]  # (line_no, qty) of each line it carried
    at: dt.datetime


class StatusEntry(msgspec.Struct, frozen=True):
    """One status the order reached, when, and the event that took it there.

    Stored as `GET /v1/orders/{id}` shows a history entry (a map of these three fields),
    so orders stored before it was the domain's own type read back unchanged.
    """

    status: OrderStatus
    at: dt.datetime
    event_id: str


class PendingDecision(msgspec.Struct, frozen=True):
    """An ERP decision that came before every line was answered, taken once they are."""

    kind: Literal["confirm", "credit_hold"]
    event_id: str  # the ERP message's: the cause of what the decision does later
    reason: str = ""


class Outbox(msgspec.Struct, frozen=True, kw_only=True):
    """What one applied message sent: sent again when that message is delivered again.

    The table write and the sends go to different partitions, so a crash can keep the
    first and lose the second; the redelivery (a duplicate by then) repairs that. The CRM
    views are not kept: each follows from its event (`tables.order.change.crm_view`), and the
    events' lines are the bulk of a stored order.
    """

    event_id: str
    events: tuple[OrderEvent, ...] = ()
    stock_commands: tuple[StockCommandMessage, ...] = ()
    wms_commands: tuple[WmsCommandMessage, ...] = ()


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """The order table value: the order, its history, and what makes applying idempotent."""

    order_id: str
    customer_id: str
    channel: str
    backorder: BackorderPolicy
    status: OrderStatus
    lines: tuple[OrderLine, ...]  # in submitted order
    correlation_id: str
    digest: str  # of the submit request: tells a retry from a conflicting re-use of the id
    history: tuple[StatusEntry, ...] = ()
    version: int = 0  # bumped once per canonical event
    pending_decision: PendingDecision | None = None
    releases: int = 0  # Releases sent (each to one or more warehouses), numbering the next
    invoiced: int = 0  # units shipped when ERP last invoiced
    invoice_id: str = ""  # ERP's last invoice
    last_offset: int = -1  # highest inbox offset applied; an order lives in one partition
    outbox: tuple[Outbox, ...] = ()  # the sends of the last OUTBOX_DEPTH applied messages
    shipments: tuple[ShipmentRecord, ...] = ()  # every shipment confirmation, in order taken
    # why its open units were cancelled (None: never cancelled, or rejected whole)
    cancel_reason: CancelReason | None = None

    @property
    def submitted_at(self) -> dt.datetime | None:
        """When the order was submitted: its place in every SKU's backorder queue."""
        return self.history[0].at if self.history else None

    def line(self, line_no: int) -> OrderLine | None:
        """The line numbered `line_no`, or None."""
        for line in self.lines:
            if line.line_no == line_no:
                return line
        return None

    def line_states(self) -> tuple[OrderLineState, ...]:
        """Every line as events and the HTTP API show it."""
        return tuple(line.state() for line in self.lines)

    def has_applied(self, offset: int | None) -> bool:
        """Whether this delivery is a Kafka redelivery of an offset already applied."""
        return offset is not None and offset <= self.last_offset

    def sent_for(self, event_id: str) -> Outbox | None:
        """What applying `event_id` sent, if it is among the last few applied."""
        return next((entry for entry in self.outbox if entry.event_id == event_id), None)

    def shipment(self, record: ShipmentRecord) -> Shipment:
        """A shipment the order took, as events and the HTTP API show it."""
        skus = {line.line_no: line.sku for line in self.lines}
        return Shipment(
            warehouse=record.warehouse,
            carrier=record.carrier,
            tracking=record.tracking,
            lines=tuple(ShipmentLine(line_no=n, sku=skus[n], qty=q) for n, q in record.lines),
            at=record.at,
        )


def status_reached(current: OrderStatus, wanted: OrderStatus) -> bool:
    """Whether an order in `current` is at `wanted` or past it, or will never move again."""
    if current == wanted or current in FINAL:
        return True
    if wanted in FINAL:
        return False
    return _STAGE[current] >= _STAGE[wanted]


def cancel_refusal(order: Order) -> str | None:
    """Why a CancelOrder would be refused now (an InvalidOrderTransition reason), or None.

    Until nothing is open, a cancel cancels what has not shipped.
    """
    if order.status in (OrderStatus.SHIPPED, OrderStatus.INVOICED):
        return "already_shipped"
    if order.status is OrderStatus.REJECTED:
        return "status_not_allowed"
    return None


def check_named_once(numbers: Sequence[int], cause: str) -> None:
    """A warehouse confirmation names some lines, each once."""
    if not numbers:
        raise InvalidOrderTransition("no_lines", f"{cause} confirms no line")
    if len(set(numbers)) != len(numbers):
        raise InvalidOrderTransition("duplicate_line_no", f"{cause} names a line twice")


def line_where(order: Order, line_no: int) -> str:
    """How an error message names one of an order's lines."""
    return f"order {order.order_id} line {line_no}"


def confirmed_line(order: Order, line_no: int, sku: str) -> OrderLine:
    """The order line a warehouse confirms: it must exist and be for that SKU."""
    line = order.line(line_no)
    where = line_where(order, line_no)
    if line is None:
        raise InvalidOrderTransition("unknown_line", f"{where} does not exist")
    if line.sku != sku:
        raise InvalidOrderTransition("line_mismatch", f"{where} is {line.sku}, not {sku}")
    return line

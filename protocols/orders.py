"""The canonical order lifecycle on `orders.events`, and the CRM view on `crm.order-status`."""

import datetime as dt
import enum
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from protocols.ids import (
    ENTITY_ID_PATTERN,
    MAX_QTY,
    CustomerId,
    EventId,
    OrderId,
    Qty,
    Sku,
    Warehouse,
)

MAX_ORDER_LINES = 500
MAX_LINE_NO = 999_999

LineNo = Annotated[int, Meta(ge=1, le=MAX_LINE_NO, description="An order line number")]
LineQty = Annotated[int, Meta(ge=0, le=MAX_QTY, description="A per-line quantity that may be 0")]
Channel = Annotated[str, Meta(pattern=ENTITY_ID_PATTERN, description="Sales channel: web, b2b")]
Version = Annotated[int, Meta(ge=1, description="The order's version: 1 on submit, +1 a change")]
BackorderPolicy = Literal["reject", "allow"]


class OrderStatus(enum.StrEnum):
    """Where an order stands in its lifecycle (CONTRACT 5)."""

    SUBMITTED = "SUBMITTED"
    RESERVED = "RESERVED"
    BACKORDERED = "BACKORDERED"
    REJECTED = "REJECTED"
    CREDIT_HOLD = "CREDIT_HOLD"
    CONFIRMED = "CONFIRMED"
    RELEASED = "RELEASED"
    PICKED = "PICKED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    INVOICED = "INVOICED"
    CANCELLED = "CANCELLED"


class CancelReason(enum.StrEnum):
    """Why an order's open units were cancelled (a whole rejected order says it by its status)."""

    CUSTOMER = "customer"
    DECISION_TIMEOUT = "decision_timeout"  # ERP did not decide within DISTGATE_DECISION_TIMEOUT_S
    REJECTED = "rejected"  # the unshipped remainder of an order rejected after a shipment


class LineStatus(enum.StrEnum):
    """Where one order line stands: sourced, released to its warehouse, picked, shipped."""

    SUBMITTED = "SUBMITTED"
    RESERVED = "RESERVED"
    BACKORDERED = "BACKORDERED"
    REJECTED = "REJECTED"
    RELEASED = "RELEASED"
    PICKED = "PICKED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class LineFill(msgspec.Struct, frozen=True, kw_only=True):
    """The part of an order line one warehouse serves, and how far it got there."""

    warehouse: Warehouse
    reserved: LineQty = 0
    allocated: LineQty = 0
    picked: LineQty = 0
    shipped: LineQty = 0


class OrderLineState(msgspec.Struct, frozen=True, kw_only=True):
    """One order line with its sourcing warehouse and progress counters (CONTRACT 2.2, 8).

    The totals add up: `reserved + allocated + shipped + backordered + cancelled = qty`
    once the stock side answered the line (picked units stay allocated until shipped);
    `fills` gives each warehouse's part, `warehouse` is the first one (or the asked one).
    """

    line_no: LineNo
    sku: Sku
    qty: Qty
    warehouse: Warehouse | None = None
    status: LineStatus
    reserved: LineQty = 0
    allocated: LineQty = 0
    picked: LineQty = 0
    shipped: LineQty = 0
    backordered: LineQty = 0
    cancelled: LineQty = 0
    fills: tuple[LineFill, ...] = ()
    # when expected receipts cover the backordered units (None: none does, or none waits)
    promise_date: dt.date | None = None


class ShortPickLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line a warehouse picked short: what its Release asked for and what was found."""

    line_no: LineNo
    sku: Sku
    requested: LineQty
    picked: LineQty
    short: Qty


class ShipmentLine(msgspec.Struct, frozen=True, kw_only=True):
    """Units of one order line in a shipment."""

    line_no: LineNo
    sku: Sku
    qty: Qty


class Shipment(msgspec.Struct, frozen=True, kw_only=True):
    """One shipment confirmation of a warehouse: carrier, tracking number, lines, when."""

    warehouse: Warehouse
    carrier: str | None = None
    tracking: str | None = None
    lines: tuple[ShipmentLine, ...]
    at: dt.datetime


class FilledUnits(msgspec.Struct, frozen=True):
    """Backordered units of a line newly reserved in one warehouse."""

    warehouse: Warehouse
    qty: Qty


class FilledLine(msgspec.Struct, frozen=True, kw_only=True):
    """Backordered units of one line now held at one warehouse (the CRM view of a fill)."""

    line_no: LineNo
    sku: Sku
    warehouse: Warehouse
    qty: Qty


class CancelledLine(msgspec.Struct, frozen=True, kw_only=True):
    """Units of one order line given up by a cancel."""

    line_no: LineNo
    sku: Sku
    qty: Qty


class OrderEventFields(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """What every canonical order event carries: the order's state right after one change.

    Keyword-only, so fields added here later can carry defaults (schema evolution).
    """

    event_id: EventId
    order_id: OrderId
    customer_id: CustomerId
    occurred_at: dt.datetime
    correlation_id: str
    causation_id: str
    version: Version
    lines: tuple[OrderLineState, ...]


class OrderEventBase(OrderEventFields, frozen=True, kw_only=True):
    """Base of a lifecycle event: the order moved to `status` (a class attribute, not sent)."""

    status: ClassVar[OrderStatus]


class OrderStepBase(OrderEventFields, frozen=True, kw_only=True):
    """Base of a step event: something happened to the order; `status` is where it stands.

    A step may be followed by a lifecycle event in the same change (a shipment that leaves
    nothing open is `OrderShipmentDispatched`, then `OrderShipped`).
    """

    status: OrderStatus


class OrderSubmitted(OrderEventBase, frozen=True, tag="OrderSubmitted"):
    """The order was accepted from a channel; nothing is reserved yet."""

    status = OrderStatus.SUBMITTED
    channel: Channel
    backorder: BackorderPolicy = "reject"


class OrderReserved(OrderEventBase, frozen=True, tag="OrderReserved"):
    """Every line was reserved, or reserved lines remain beside backordered ones."""

    status = OrderStatus.RESERVED


class OrderBackordered(OrderEventBase, frozen=True, tag="OrderBackordered"):
    """No line could be reserved and the order allows backorders."""

    status = OrderStatus.BACKORDERED


class OrderRejected(OrderEventBase, frozen=True, tag="OrderRejected"):
    """The order was refused (by stock or by ERP); its reservations are released."""

    status = OrderStatus.REJECTED
    reason: str


class OrderCreditHold(OrderEventBase, frozen=True, tag="OrderCreditHold"):
    """ERP holds the order for credit; its reservations are kept."""

    status = OrderStatus.CREDIT_HOLD
    reason: str


class OrderConfirmed(OrderEventBase, frozen=True, tag="OrderConfirmed"):
    """ERP (or `auto` mode) confirmed the order; its releases follow."""

    status = OrderStatus.CONFIRMED


class OrderReleased(OrderEventBase, frozen=True, tag="OrderReleased"):
    """Reservations became allocations and one Release went to each warehouse."""

    status = OrderStatus.RELEASED
    warehouses: tuple[Warehouse, ...]


class OrderPicked(OrderEventBase, frozen=True, tag="OrderPicked"):
    """Every released line is picked; `warehouse` sent the confirmation that completed it."""

    status = OrderStatus.PICKED
    warehouse: Warehouse


class OrderAwaitingStock(OrderEventBase, frozen=True, tag="OrderAwaitingStock"):
    """Confirmed, and everything still open is backordered: the order waits for stock."""

    status = OrderStatus.CONFIRMED
    warehouse: Warehouse  # sent the pick that left nothing to ship


class OrderPartiallyShipped(OrderEventBase, frozen=True, tag="OrderPartiallyShipped"):
    """Something shipped and something is still open (released, picked or backordered)."""

    status = OrderStatus.PARTIALLY_SHIPPED
    warehouse: Warehouse
    carrier: str | None = None
    tracking: str | None = None


class OrderShipped(OrderEventBase, frozen=True, tag="OrderShipped"):
    """Nothing is open any more: every unit shipped or cancelled; `warehouse` shipped last."""

    status = OrderStatus.SHIPPED
    warehouse: Warehouse
    carrier: str | None = None
    tracking: str | None = None


class OrderRemainderCancelled(OrderEventBase, frozen=True, tag="OrderRemainderCancelled"):
    """What had not shipped was cancelled (by the customer, or ERP's rejection): nothing is open.

    `cancelled` lists what each line gave up with this cancel.
    """

    status = OrderStatus.SHIPPED
    reason: str
    cancelled: tuple[CancelledLine, ...] = ()


class OrderStockTakenBack(OrderEventBase, frozen=True, tag="OrderStockTakenBack"):
    """A warehouse's shelf holds less than was reserved there: units went back to backordered.

    `reason` names the stock fact (`count`, `adjust`, `hold`, `shipment`, `short_pick`)
    that left `warehouse` with less on hand than was committed; the newest orders give
    way first. The units are looked for elsewhere like any backorder. Something is still
    reserved; `OrderStockTakenBackWholly` and `OrderStockTakenBackOnHold` otherwise.
    """

    status = OrderStatus.RESERVED
    line_no: LineNo
    warehouse: Warehouse
    qty: LineQty
    reason: str


class OrderStockTakenBackWholly(OrderStockTakenBack, frozen=True, tag="OrderStockTakenBackWholly"):
    """As OrderStockTakenBack, and nothing of the order is reserved any more."""

    status = OrderStatus.BACKORDERED


class OrderStockTakenBackOnHold(OrderStockTakenBack, frozen=True, tag="OrderStockTakenBackOnHold"):
    """As OrderStockTakenBack, on an order ERP holds for credit (it stays on hold)."""

    status = OrderStatus.CREDIT_HOLD


class OrderInvoiced(OrderEventBase, frozen=True, tag="OrderInvoiced"):
    """Everything shipped is invoiced and nothing is open; `invoice_id` is ERP's last."""

    status = OrderStatus.INVOICED
    invoice_id: str


class OrderCancelled(OrderEventBase, frozen=True, tag="OrderCancelled"):
    """The order was cancelled; reservations and unshipped allocations are released."""

    status = OrderStatus.CANCELLED
    reason: str


class OrderPickedShort(OrderStepBase, frozen=True, tag="OrderPickedShort"):
    """A warehouse picked fewer units than released: `short` lists each line short there.

    The short units are backordered again and filled like any backorder.
    """

    warehouse: Warehouse
    short: tuple[ShortPickLine, ...]


class OrderShipmentDispatched(OrderStepBase, frozen=True, tag="OrderShipmentDispatched"):
    """A warehouse shipped some of the order: one event per shipment confirmation."""

    shipment: Shipment


class OrderBackorderFilled(OrderStepBase, frozen=True, tag="OrderBackorderFilled"):
    """Backordered units of line `line_no` are reserved now, `filled` per warehouse.

    On a confirmed order they are released to those warehouses at once (its Release
    follows as its own event); before ERP's decision they wait for it like the rest.
    """

    line_no: LineNo
    sku: Sku
    filled: tuple[FilledUnits, ...]


OrderStatusEvent = (
    OrderSubmitted
    | OrderReserved
    | OrderBackordered
    | OrderRejected
    | OrderCreditHold
    | OrderConfirmed
    | OrderReleased
    | OrderPicked
    | OrderAwaitingStock
    | OrderPartiallyShipped
    | OrderShipped
    | OrderRemainderCancelled
    | OrderStockTakenBack
    | OrderStockTakenBackWholly
    | OrderStockTakenBackOnHold
    | OrderInvoiced
    | OrderCancelled
)
"""The lifecycle events: each moves the order to its status."""

OrderStepEvent = OrderPickedShort | OrderShipmentDispatched | OrderBackorderFilled
"""The step events: each records one effect, the status staying where it is."""

OrderEvent = OrderStatusEvent | OrderStepEvent
"""Every event on `orders.events`."""


class OrderStatusChanged(msgspec.Struct, frozen=True, tag_field="type", tag="OrderStatusChanged"):
    """The customer-facing view of an order after a change, on `crm.order-status`.

    One per canonical event: `event_type` names it, and a step's details come along
    (`short`, `shipment`, `filled`, `cancelled`); for a step `status` is unchanged.
    """

    event_id: EventId
    order_id: OrderId
    customer_id: CustomerId
    status: OrderStatus
    at: dt.datetime
    lines: tuple[OrderLineState, ...]
    event_type: str = ""
    short: tuple[ShortPickLine, ...] = ()
    shipment: Shipment | None = None
    filled: tuple[FilledLine, ...] = ()
    cancelled: tuple[CancelledLine, ...] = ()

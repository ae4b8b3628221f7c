"""HTTP request and response bodies of CONTRACT 2.2, and the 422 field errors."""

import datetime as dt
import re
from typing import Annotated

import msgspec
from msgspec import Meta

from protocols.ids import CustomerId, EventId, OrderId, PoId, Qty, Sku, Warehouse
from protocols.orders import (
    MAX_ORDER_LINES,
    BackorderPolicy,
    CancelReason,
    Channel,
    LineNo,
    OrderLineState,
    OrderStatus,
    Shipment,
    Version,
)

Loc = tuple[str | int, ...]


class IncomingSupply(msgspec.Struct, frozen=True):
    """An expected receipt still due at a warehouse."""

    po_id: PoId
    qty: Qty
    eta: dt.date


class AtpWarehouse(msgspec.Struct, frozen=True):
    """One warehouse's stock position of a SKU and what it can promise."""

    warehouse: Warehouse
    on_hand: int
    blocked: int
    reserved: int
    allocated: int
    safety_stock: int
    atp: int
    incoming: tuple[IncomingSupply, ...] = ()


class AtpResponse(msgspec.Struct, frozen=True):
    """`GET /v1/atp/{sku}`: `atp` is the sum over the listed warehouses."""

    sku: Sku
    atp: int
    warehouses: tuple[AtpWarehouse, ...]
    as_of: dt.datetime


class AtpCheckLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A quantity to check, at one warehouse or wherever the sourcing rule finds it."""

    sku: Sku
    qty: Qty
    warehouse: Warehouse | None = None


class AtpCheckRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`POST /v1/atp/check` body."""

    lines: Annotated[tuple[AtpCheckLine, ...], Meta(min_length=1, max_length=MAX_ORDER_LINES)]


class AtpCheckResult(msgspec.Struct, frozen=True):
    """Whether a line is available now, where, and otherwise when (`promise_date`, or null)."""

    sku: Sku
    qty: Qty
    available: bool
    warehouse: Warehouse | None
    atp: int
    promise_date: dt.date | None


class AtpCheckResponse(msgspec.Struct, frozen=True):
    """`POST /v1/atp/check` answer, one result per requested line in order."""

    lines: tuple[AtpCheckResult, ...]


class OrderLineRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An order line as submitted; without `warehouse` the sourcing rule picks one."""

    line_no: LineNo
    sku: Sku
    qty: Qty
    warehouse: Warehouse | None = None


class SubmitOrderRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`POST /v1/orders` body; without `order_id` the gateway assigns one."""

    customer_id: CustomerId
    channel: Channel
    lines: Annotated[tuple[OrderLineRequest, ...], Meta(min_length=1, max_length=MAX_ORDER_LINES)]
    order_id: OrderId | None = None
    backorder: BackorderPolicy = "reject"


class OrderAccepted(msgspec.Struct, frozen=True):
    """`202` answer to `POST /v1/orders`: the order is durably submitted."""

    order_id: OrderId
    status: OrderStatus
    correlation_id: str


class HistoryEntry(msgspec.Struct, frozen=True):
    """One status an order reached, and the event that took it there."""

    status: OrderStatus
    at: dt.datetime
    event_id: EventId


class OrderView(msgspec.Struct, frozen=True):
    """`GET /v1/orders/{order_id}`: the order's current state and its status history."""

    order_id: OrderId
    customer_id: CustomerId
    channel: Channel
    status: OrderStatus
    lines: tuple[OrderLineState, ...]
    history: tuple[HistoryEntry, ...]
    correlation_id: str
    version: Version
    shipments: tuple[Shipment, ...] = ()  # each shipment confirmation, with its tracking
    # why the order, or its unshipped remainder, was cancelled; absent if it never was, so
    # an order nothing was cancelled of shows the contract's fields only
    cancel_reason: CancelReason | msgspec.UnsetType = msgspec.UNSET


class FieldError(msgspec.Struct, frozen=True):
    """One reason for a 422: where in the request (`["body", "lines", 0, "qty"]`) and what."""

    loc: Loc
    msg: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem+json body; `errors` only on 422."""

    type: str
    title: str
    status: int
    detail: str
    errors: tuple[FieldError, ...] | None = None
    instance: str | None = None


SUBMIT_ORDER_DECODER = msgspec.json.Decoder(SubmitOrderRequest)
ATP_CHECK_DECODER = msgspec.json.Decoder(AtpCheckRequest)
ENCODER = msgspec.json.Encoder()

# msgspec ends a ValidationError with " - at `$.lines[0].qty`" (or "`key` in `$.x`" for a
# mapping key) unless it is about the root; a missing or unknown field is named in the message.
_ERROR_PATH = re.compile(r" - at (?:`key` in )?`\$([^`]*)`$")
_PATH_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `(.*)`$", re.DOTALL)


def field_error(exc: msgspec.ValidationError) -> FieldError:
    """Turn msgspec's message into a FieldError whose loc starts at "body"."""
    msg = str(exc)
    loc: list[str | int] = ["body"]
    if at := _ERROR_PATH.search(msg):
        msg = msg[: at.start()]
        loc.extend(name or int(index) for name, index in _PATH_STEP.findall(at[1]))
    if named := _NAMED_FIELD.match(msg):
        loc.append(named[1])
    return FieldError(loc=tuple(loc), msg=msg)


def validate_order(request: SubmitOrderRequest) -> list[FieldError]:
    """The cross-field rules msgspec cannot express: each `line_no` once per order."""
    errors: list[FieldError] = []
    first_index: dict[int, int] = {}
    for index, line in enumerate(request.lines):
        first = first_index.setdefault(line.line_no, index)
        if first != index:
            errors.append(
                FieldError(
                    loc=("body", "lines", index, "line_no"),
                    msg=f"line_no {line.line_no} already used by lines[{first}]",
                )
            )
    return errors

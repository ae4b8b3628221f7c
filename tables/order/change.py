"""An order being changed by one inbox message: the value so far and the effects it sends."""

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from msgspec.structs import replace

from protocols.ids import ENTITY_ID_PATTERN
from protocols.orders import (
    FilledLine,
    OrderBackorderFilled,
    OrderEvent,
    OrderPickedShort,
    OrderRemainderCancelled,
    OrderShipmentDispatched,
    OrderStatusChanged,
    OrderStepEvent,
)
from protocols.reservations import StockCommandMessage
from protocols.wms_events import WmsCommandMessage
from tables.order.value import Order, OrderLine, StatusEntry

_TXN = re.compile(ENTITY_ID_PATTERN)


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """The order after the steps taken so far, and everything those steps publish."""

    order: Order
    causation_id: str  # the inbox message's event id (or a parked ERP decision's)
    now: dt.datetime
    auto_confirm: bool
    events: tuple[OrderEvent, ...] = ()
    status_changes: tuple[OrderStatusChanged, ...] = ()
    stock_commands: tuple[StockCommandMessage, ...] = ()
    wms_commands: tuple[WmsCommandMessage, ...] = ()


def emit(change: Change, make: Callable[..., OrderEvent], **fields: Any) -> Change:
    """Move the order to the status of event type `make`: a new version, event and history entry."""
    order = change.order
    version = order.version + 1
    event = make(**_event_head(change, version), **fields)
    entry = StatusEntry(status=event.status, at=change.now, event_id=event.event_id)
    moved = replace(order, status=event.status, version=version, history=(*order.history, entry))
    return _published(replace(change, order=moved), event)


def note(change: Change, make: Callable[..., OrderStepEvent], **fields: Any) -> Change:
    """Record one step (a short pick, a shipment, a fill): a new version and event, same status.

    Steps are not statuses, so they add no history entry.
    """
    order = change.order
    version = order.version + 1
    event = make(**_event_head(change, version), status=order.status, **fields)
    return _published(replace(change, order=replace(order, version=version)), event)


def _event_head(change: Change, version: int) -> dict[str, Any]:
    """What every event of the order's `version` says of it: ids, time, cause and lines."""
    order = change.order
    return {
        "event_id": f"{order.order_id}:v{version}",
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "occurred_at": change.now,
        "correlation_id": order.correlation_id,
        "causation_id": change.causation_id,
        "version": version,
        "lines": order.line_states(),
    }


def _published(change: Change, event: OrderEvent) -> Change:
    """The change with `event` and its CRM view to send."""
    crm = crm_view(event)
    return replace(
        change, events=(*change.events, event), status_changes=(*change.status_changes, crm)
    )


def crm_view(event: OrderEvent) -> OrderStatusChanged:
    """The CRM view of a canonical event: all of it follows from the event."""
    return OrderStatusChanged(
        event_id=f"{event.event_id}:crm",
        order_id=event.order_id,
        customer_id=event.customer_id,
        status=event.status,
        at=event.occurred_at,
        lines=event.lines,
        event_type=type(event).__name__,
        **_step_details(event),
    )


def _step_details(event: OrderEvent) -> dict[str, Any]:
    """What the CRM view repeats of an event beyond the order's state."""
    match event:
        case OrderPickedShort():
            return {"short": event.short}
        case OrderShipmentDispatched():
            return {"shipment": event.shipment}
        case OrderBackorderFilled():
            return {
                "filled": tuple(
                    FilledLine(
                        line_no=event.line_no, sku=event.sku, warehouse=f.warehouse, qty=f.qty
                    )
                    for f in event.filled
                )
            }
        case OrderRemainderCancelled():
            return {"cancelled": event.cancelled}
        case _:
            return {}


def with_lines(change: Change, lines: Iterable[OrderLine]) -> Change:
    """Replace the order's lines of the same numbers with `lines`."""
    updates = {line.line_no: line for line in lines}
    kept = tuple(updates.get(line.line_no, line) for line in change.order.lines)
    return replace(change, order=replace(change.order, lines=kept))


def to_stock(
    change: Change,
    make: Callable[..., StockCommandMessage],
    line: OrderLine,
    step: str,
    **fields: Any,
) -> Change:
    """Send a command about `line` to its SKU's stock; its id names the order, line and step."""
    order = change.order
    command = make(
        event_id=f"{order.order_id}:{line.line_no}:{step}",
        sku=line.sku,
        order_id=order.order_id,
        line_no=line.line_no,
        correlation_id=order.correlation_id,
        **fields,
    )
    return replace(change, stock_commands=(*change.stock_commands, command))


def to_warehouse(
    change: Change,
    make: Callable[..., WmsCommandMessage],
    warehouse: str,
    step: str,
    **fields: Any,
) -> Change:
    """Send a command about the order to one warehouse, with distgate's own `txn` for it."""
    order = change.order
    command = make(
        event_id=f"{order.order_id}:{step}:{warehouse}",
        order_id=order.order_id,
        warehouse=warehouse,
        txn=txn_id(step, order.order_id),
        correlation_id=order.correlation_id,
        causation_id=change.causation_id,
        **fields,
    )
    return replace(change, wms_commands=(*change.wms_commands, command))


def txn_id(step: str, order_id: str) -> str:
    """distgate's WMS transaction number: `DG-<step>-<order>`, hashed when too long for a txn."""
    readable = f"DG-{step}-{order_id}"
    if _TXN.fullmatch(readable):
        return readable
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:40]
    return f"DG-{step}-{digest}"

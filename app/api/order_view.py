"""An order as `GET /v1/orders/{order_id}` shows it: the stored value turned HTTP body."""

import msgspec

from protocols.http import HistoryEntry, OrderView
from tables.order.value import Order


def order_view(order: Order, order_id: str) -> OrderView:
    """The body for `order`, named `order_id` as the caller named it (a bound token's ids
    are stored scoped)."""
    return OrderView(
        order_id=order_id,
        customer_id=order.customer_id,
        channel=order.channel,
        status=order.status,
        lines=order.line_states(),
        history=tuple(
            HistoryEntry(status=entry.status, at=entry.at, event_id=entry.event_id)
            for entry in order.history
        ),
        correlation_id=order.correlation_id,
        version=order.version,
        shipments=tuple(order.shipment(record) for record in order.shipments),
        cancel_reason=order.cancel_reason or msgspec.UNSET,
    )

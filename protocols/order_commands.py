"""What the HTTP API puts on the order inbox: submit and cancel commands."""

import datetime as dt

import msgspec

from protocols.http import OrderLineRequest
from protocols.ids import CustomerId, EventId, OrderId
from protocols.orders import BackorderPolicy, Channel


class OrderCommand(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of a CRM or web shop instruction about one order."""

    event_id: EventId
    order_id: OrderId
    at: dt.datetime
    correlation_id: str


class SubmitOrder(OrderCommand, frozen=True, tag="SubmitOrder"):
    """Place the order; `digest` tells a retry (same body) from a conflicting re-use of the id."""

    customer_id: CustomerId
    channel: Channel
    lines: tuple[OrderLineRequest, ...]
    backorder: BackorderPolicy
    digest: str


class CancelOrder(OrderCommand, frozen=True, tag="CancelOrder"):
    """Cancel the order if it has not shipped."""

    reason: str = "cancelled by customer"


class DecisionOverdue(OrderCommand, frozen=True, tag="DecisionOverdue"):
    """ERP did not decide within the decision timeout: cancel the order if it still waits."""

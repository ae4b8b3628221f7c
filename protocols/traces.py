"""The admin view of one flow: `GET /v1/admin/trace/{correlation_id}`."""

import datetime as dt
from typing import Literal

import msgspec

MessageKind = Literal[
    "http_command",  # SubmitOrder or CancelOrder from the API, on the order inbox
    "erp_decision",  # an ERP decision relayed to the order inbox (matched by order id)
    "wms_confirmation",  # a pick or ship confirmation from a WMS, through the bridge
    "order_event",  # orders.events
    "status_change",  # crm.order-status
    "stock_change",  # inventory.events
    "wms_command",  # a Release or Cancel, queued for its warehouse (the wms-commands topic)
    "dead_letter",  # anything of the flow that could not be applied
]


class TracedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message of a flow, where it is in Kafka, and the span that sent it."""

    at: dt.datetime  # the record's timestamp (when it was produced)
    kind: MessageKind
    topic: str
    partition: int
    offset: int
    key: str | None
    type: str | None  # the value's type tag (OrderReserved, ReleaseToWarehouse, ...)
    event_id: str | None
    order_id: str | None = None
    traceparent: str | None = None
    reason: str | None = None  # a dead letter's `dl.reason`


class Trace(msgspec.Struct, frozen=True, kw_only=True):
    """Every message of one flow this worker has seen, in time order."""

    correlation_id: str
    trace_id: str
    messages: tuple[TracedMessage, ...]
    truncated: bool = False  # the flow had more messages than one flow may keep

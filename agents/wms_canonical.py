"""The WMS bridge's canonical mapping: a legacy message in, canonical Kafka records out (pure).

Stock facts become one `protocols.inventory` event per line on the stock inbox, keyed by
SKU, with the id `wms:<WAREHOUSE>:<txn>:<sku>`; pick and ship confirmations become one
event per message on the order inbox, keyed by order id, with the id `wms:<WAREHOUSE>:<txn>`.
A redelivered message therefore yields the same ids, and the tables apply it once.

A confirmation's stock effect goes to the stock inbox as well, first, one event per line
that takes units off the shelf (`StockShipped`, `StockPickedShort`, id
`wms:<WAREHOUSE>:<txn>:<line no>`): so it takes effect in the order the WMS sent it,
before a count the WMS sent after it. The order side's later command for the same line
names that id and changes stock no more (`tables.stock.shelf`).
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, assert_never

import msgspec

from protocols.amqp import (
    HEADER_CONTENT_TYPE,
    HEADER_CORRELATION_ID,
    HEADER_MESSAGE_ID,
    HEADER_ROUTING_KEY,
    HEADER_WMS_TXN,
    HEADER_WMS_WAREHOUSE,
)
from protocols.deadletters import Header
from protocols.inventory import (
    StockAdjusted,
    StockCounted,
    StockHoldChanged,
    StockPickedShort,
    StockReceived,
    StockShipped,
    WmsStockEvent,
    shelf_line_id,
)
from protocols.topics import Topics
from protocols.wms import (
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsMessage,
    WmsPickConfirm,
    WmsReceipt,
    WmsShipConfirm,
)
from protocols.wms_events import PickConfirmed, ShipConfirmed

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Delivery:
    """What the bridge knows of one AMQP delivery besides its body."""

    routing_key: str
    message_id: str | None
    correlation_id: str | None
    content_type: str | None
    timestamp: dt.datetime | None
    digest: str  # of routing key and body: the same message always has the same digest

    @property
    def effective_correlation_id(self) -> str:
        """The WMS's correlation id, else its message id, else one derived from the content."""
        return self.correlation_id or self.message_id or f"wms-{self.digest}"

    def headers(self) -> list[Header]:
        """The AMQP identity as Kafka headers (absent properties are left out)."""
        pairs = [
            (HEADER_ROUTING_KEY, self.routing_key),
            (HEADER_MESSAGE_ID, self.message_id),
            (HEADER_CORRELATION_ID, self.correlation_id),
            (HEADER_CONTENT_TYPE, self.content_type),
        ]
        return [(name, value.encode()) for name, value in pairs if value is not None]


def delivery_digest(routing_key: str, body: bytes) -> str:
    """A digest identifying a message by its routing key and bytes."""
    digest = hashlib.blake2b(routing_key.encode(), digest_size=16)
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True)
class KafkaRecord:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[Header, ...]


def to_canonical(
    message: WmsMessage, delivery: Delivery, now: dt.datetime, topics: Topics
) -> list[KafkaRecord]:
    """The canonical records for one decoded WMS message, in line order, on `topics`' inboxes."""
    headers = (
        *delivery.headers(),
        (HEADER_WMS_TXN, message.txn.encode()),
        (HEADER_WMS_WAREHOUSE, message.warehouse.encode()),
    )
    correlation_id, at = delivery.effective_correlation_id, delivery.timestamp or now
    if isinstance(message, WmsPickConfirm | WmsShipConfirm):
        confirmation = _confirmation(message, correlation_id, at)
        value = _encoder.encode(confirmation)
        shelf = _shelf_events(message, confirmation.event_id, correlation_id, at)
        return [
            *_on_stock_inbox(shelf, topics, headers),
            KafkaRecord(topics.order_inbox.name, message.order.encode(), value, headers),
        ]
    return _on_stock_inbox(_stock_events(message, correlation_id, at), topics, headers)


def _on_stock_inbox(
    events: list[WmsStockEvent], topics: Topics, headers: tuple[Header, ...]
) -> list[KafkaRecord]:
    """Each event as a stock inbox record, keyed by its SKU."""
    return [
        KafkaRecord(topics.stock_inbox.name, event.sku.encode(), _encoder.encode(event), headers)
        for event in events
    ]


def _shelf_events(
    message: WmsPickConfirm | WmsShipConfirm,
    confirmation_id: str,
    correlation_id: str,
    at: dt.datetime,
) -> list[WmsStockEvent]:
    """One event per line that took units off the shelf: each shipped, each picked short."""
    common: dict[str, Any] = {
        "warehouse": message.warehouse,
        "order_id": message.order,
        "occurred_at": at,
        "correlation_id": correlation_id,
    }
    if isinstance(message, WmsShipConfirm):
        return [
            StockShipped(
                **common,
                event_id=shelf_line_id(confirmation_id, line.no),
                sku=line.sku,
                line_no=line.no,
                qty=line.qty,
            )
            for line in message.lines
        ]
    return [
        StockPickedShort(
            **common,
            event_id=shelf_line_id(confirmation_id, line.no),
            sku=line.sku,
            line_no=line.no,
            short=line.requested - line.picked,
        )
        for line in message.lines
        if line.picked < line.requested
    ]


def _stock_events(
    message: WmsReceipt | WmsAdjust | WmsHold | WmsCount, correlation_id: str, at: dt.datetime
) -> list[WmsStockEvent]:
    """One event per line; the id adds the SKU to the message's `wms:<WAREHOUSE>:<txn>`."""
    prefix = f"wms:{message.warehouse}:{message.txn}"

    def common(sku: str) -> dict[str, Any]:
        return {
            "event_id": f"{prefix}:{sku}",
            "sku": sku,
            "warehouse": message.warehouse,
            "occurred_at": at,
            "correlation_id": correlation_id,
        }

    match message:
        case WmsReceipt():
            return [
                StockReceived(**common(line.sku), qty=line.qty, po_id=message.po)
                for line in message.lines
            ]
        case WmsAdjust():
            return [
                StockAdjusted(**common(line.sku), delta=line.delta, reason=message.reason)
                for line in message.lines
            ]
        case WmsHold():
            return [
                StockHoldChanged(**common(line.sku), delta=line.delta, reason=message.reason)
                for line in message.lines
            ]
        case WmsCount():
            return [
                StockCounted(**common(line.sku), on_hand=line.on_hand) for line in message.lines
            ]
        case _:
            assert_never(message)


def _confirmation(
    message: WmsPickConfirm | WmsShipConfirm, correlation_id: str, at: dt.datetime
) -> PickConfirmed | ShipConfirmed:
    """One event for the whole message, id `wms:<WAREHOUSE>:<txn>`, for the order side."""
    event_id = f"wms:{message.warehouse}:{message.txn}"
    if isinstance(message, WmsPickConfirm):
        return PickConfirmed(
            event_id=event_id, order_id=message.order, warehouse=message.warehouse,
            txn=message.txn, occurred_at=at, correlation_id=correlation_id,
            lines=message.lines,
        )  # fmt: skip
    return ShipConfirmed(
        event_id=event_id, order_id=message.order, warehouse=message.warehouse,
        txn=message.txn, occurred_at=at, correlation_id=correlation_id,
        lines=message.lines, carrier=message.carrier, tracking=message.tracking,
    )  # fmt: skip

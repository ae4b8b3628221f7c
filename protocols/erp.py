"""What ERP publishes: supply planning on `erp.supply`, order decisions on `erp.order-decisions`."""

import datetime as dt
from typing import Annotated, Final

import msgspec

from protocols.ids import EventId, OrderId, PoId, Qty, SafetyQty, Sku, Warehouse

# ERP's free strings are stored on the order and sent on to CRM: bounded, so an oversized
# one is a dead letter (`malformed`, naming the field) and never a blob in every mirror.
MAX_REASON_CHARS: Final = 500
MAX_INVOICE_ID_CHARS: Final = 64
ReasonText = Annotated[str, msgspec.Meta(max_length=MAX_REASON_CHARS)]
InvoiceId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_INVOICE_ID_CHARS)]


class ErpMessage(msgspec.Struct, frozen=True, tag_field="type"):
    """Base of every ERP message: a `type` tag and a unique `event_id`.

    Unknown fields are ignored (tolerant reader), so ERP may add fields first.
    """

    event_id: EventId


class SafetyStockSet(ErpMessage, frozen=True, tag="SafetyStockSet"):
    """ERP sets the quantity of a SKU a warehouse must never promise."""

    sku: Sku
    warehouse: Warehouse
    qty: SafetyQty


class ExpectedReceipt(ErpMessage, frozen=True, tag="ExpectedReceipt"):
    """A purchase order line due at a warehouse; upserted by `po_id`."""

    po_id: PoId
    sku: Sku
    warehouse: Warehouse
    qty: Qty
    eta: dt.date


class ExpectedReceiptCancelled(ErpMessage, frozen=True, tag="ExpectedReceiptCancelled"):
    """A purchase order line will not arrive."""

    po_id: PoId
    sku: Sku
    warehouse: Warehouse


SupplyMessage = SafetyStockSet | ExpectedReceipt | ExpectedReceiptCancelled


class ErpOrderConfirmed(ErpMessage, frozen=True, tag="OrderConfirmed"):
    """ERP accepts an order: its reservations may be allocated and released to the WMS."""

    order_id: OrderId


class ErpOrderCreditHold(ErpMessage, frozen=True, tag="OrderCreditHold"):
    """ERP holds an order for credit; reservations are kept."""

    order_id: OrderId
    reason: ReasonText = ""


class ErpOrderCreditReleased(ErpMessage, frozen=True, tag="OrderCreditReleased"):
    """ERP lifts a credit hold: the order is confirmed."""

    order_id: OrderId


class ErpOrderRejected(ErpMessage, frozen=True, tag="OrderRejected"):
    """ERP refuses an order: reservations are released."""

    order_id: OrderId
    reason: ReasonText = ""


class ErpOrderInvoiced(ErpMessage, frozen=True, tag="OrderInvoiced"):
    """ERP invoiced a shipped order."""

    order_id: OrderId
    invoice_id: InvoiceId


OrderDecision = (
    ErpOrderConfirmed
    | ErpOrderCreditHold
    | ErpOrderCreditReleased
    | ErpOrderRejected
    | ErpOrderInvoiced
)

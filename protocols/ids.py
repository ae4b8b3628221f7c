"""Identifier and quantity types shared by every wire format (CONTRACT 2.1)."""

from typing import Annotated

from msgspec import Meta

# Python's `$` also matches before a final newline, so "SKU-1\n" would pass; the lookahead
# closes that gap and is still valid ECMA-262 for the OpenAPI schema.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$(?!\n)"
WAREHOUSE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,31}$(?!\n)"
ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$(?!\n)"

MAX_QTY = 1_000_000
MAX_EVENT_ID = 200

Sku = Annotated[str, Meta(pattern=SKU_PATTERN, description="Stock keeping unit")]
Warehouse = Annotated[str, Meta(pattern=WAREHOUSE_PATTERN, description="Warehouse code")]
OrderId = Annotated[str, Meta(pattern=ENTITY_ID_PATTERN, description="Order id")]
CustomerId = Annotated[str, Meta(pattern=ENTITY_ID_PATTERN, description="Customer id")]
EventId = Annotated[str, Meta(min_length=1, max_length=MAX_EVENT_ID, description="Unique event id")]
PoId = Annotated[str, Meta(pattern=ENTITY_ID_PATTERN, description="Purchase order id")]

Qty = Annotated[int, Meta(ge=1, le=MAX_QTY, description="A positive quantity")]
SafetyQty = Annotated[int, Meta(ge=0, le=MAX_QTY, description="A quantity that may be zero")]
StockLevel = Annotated[int, Meta(ge=0, le=2**53, description="An absolute stock figure")]
Delta = Annotated[int, Meta(ge=-MAX_QTY, le=MAX_QTY, description="A signed quantity change")]

"""The bench's one call into the stock engine's pure rule: when that API changes, only this does."""

import datetime as dt

from protocols.inventory import StockChanged
from protocols.topics import StockInboxMessage
from tables.errors import InvalidStockChange
from tables.stock.apply import apply
from tables.stock.value import SkuStock

Values = dict[str, SkuStock]
"""Every SKU's stock value seen so far, keyed by SKU (one partition's SKUs never meet another's)."""


def project(values: Values, message: StockInboxMessage, offset: int) -> tuple[StockChanged, ...]:
    """Apply one inbox message as the stock agent does; the StockChanged it publishes.

    An invalid change publishes nothing (the agent dead-letters it) and leaves the value.
    """
    stock = values.get(message.sku) or SkuStock(sku=message.sku)
    try:
        applied = apply(stock, message, offset, dt.datetime.now(dt.UTC))
    except InvalidStockChange:
        return ()
    values[message.sku] = applied.stock
    return applied.changes

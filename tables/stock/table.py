"""The stock table: per SKU a small value and its rows, RocksDB-backed with a compacted changelog.

Keys (`tables.keys`): the SKU's value (`SkuStock`, msgpack), one row per order line's hold
(`Reservation`), one row per applied upstream event id (a day stamp), and the backorder
queue's head and a row per waiting line (`tables.stock.queue_rows`).
"""

import faust
from faust.types import TableT

from protocols.topics import TopicSpec
from tables.changelog import table_changelog
from tables.stock.batch import decode_stock, encode_stock
from tables.stock.value import SkuStock

__all__ = ["TABLE_NAME", "declare_stock_table", "decode_stock", "encode_stock", "stock_changelog"]

TABLE_NAME = "stock"


def declare_stock_table(app: faust.App) -> TableT[bytes, bytes]:
    """Declare the table; bytes keys and values (Faust picks the raw codec for bytes)."""
    return app.Table(
        TABLE_NAME,
        default=None,
        key_type=bytes,
        value_type=bytes,
        help="Stock per SKU, its order lines' holds and the ids it applied",
    )


def stock_changelog(app_id: str) -> TopicSpec:
    """The stock table's changelog, mirrored by every worker's replica."""
    return table_changelog(
        app_id,
        TABLE_NAME,
        SkuStock,
        "Per SKU the latest SkuStock (msgpack); keys with `|` are its rows"
        " (lines, seen ids, the backorder queue).",
    )

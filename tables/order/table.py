"""The order table: one Order per order id (msgpack) and its seen ids, RocksDB with a changelog."""

import faust
from faust.types import TableT

from protocols.topics import TopicSpec
from tables.changelog import table_changelog
from tables.order.batch import decode_order, encode_order, is_closed_order
from tables.order.value import Order

__all__ = [
    "TABLE_NAME",
    "declare_order_table",
    "decode_order",
    "encode_order",
    "is_closed_order",
    "order_changelog",
]

TABLE_NAME = "orders"


def declare_order_table(app: faust.App) -> TableT[bytes, bytes]:
    """Declare the table; bytes keys and values (Faust picks the raw codec for bytes)."""
    return app.Table(
        TABLE_NAME,
        default=None,
        key_type=bytes,
        value_type=bytes,
        help="Orders by id: lines, status, history, and what makes applying idempotent",
    )


def order_changelog(app_id: str) -> TopicSpec:
    """The order table's changelog, mirrored by every worker's replica."""
    return table_changelog(
        app_id,
        TABLE_NAME,
        Order,
        "Per order id the latest Order (msgpack); keys with `|` are its seen ids.",
    )

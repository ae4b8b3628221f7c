"""The order table: one Order per order id (msgpack bytes), RocksDB with a compacted changelog."""

import faust
import msgspec
from faust.types import TableT

from protocols.topics import TopicSpec
from tables.changelog import table_changelog
from tables.orders import Order

TABLE_NAME = "orders"

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Order)


def encode_order(order: Order) -> bytes:
    """The table's stored form of an order."""
    return _encoder.encode(order)


def decode_order(raw: bytes) -> Order:
    """Read a stored value back."""
    return _decoder.decode(raw)


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
    return table_changelog(app_id, TABLE_NAME, Order, "The latest Order (msgpack) per order id.")

"""The stock table: one value per SKU (msgpack bytes), RocksDB-backed with a compacted changelog."""

import faust
import msgspec
from faust.types import TableT

from protocols.topics import TopicSpec
from tables.changelog import table_changelog
from tables.stock import SkuStock

TABLE_NAME = "stock"

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(SkuStock)


def encode_stock(stock: SkuStock) -> bytes:
    """The table's stored form of a SKU's stock."""
    return _encoder.encode(stock)


def decode_stock(raw: bytes) -> SkuStock:
    """Read a stored value back."""
    return _decoder.decode(raw)


def declare_stock_table(app: faust.App) -> TableT[bytes, bytes]:
    """Declare the table; bytes keys and values (Faust picks the raw codec for bytes)."""
    return app.Table(
        TABLE_NAME,
        default=None,
        key_type=bytes,
        value_type=bytes,
        help="Stock per SKU across warehouses, with what makes applying idempotent",
    )


def stock_changelog(app_id: str) -> TopicSpec:
    """The stock table's changelog, mirrored by every worker's replica."""
    return table_changelog(app_id, TABLE_NAME, SkuStock, "The latest SkuStock (msgpack) per SKU.")

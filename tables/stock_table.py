"""The stock table: one value per SKU (msgpack bytes), RocksDB-backed with a compacted changelog."""

from collections import OrderedDict

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


class StockValues:
    """The stock table's values as the stock actor reads and writes them, decoded once.

    A hot SKU's value holds a record for every open order line, and decoding it again for
    each event cost more than applying the event. The decoded form of the most recently
    used SKUs is kept and reused while the stored bytes are the same (values are frozen).
    """

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._recent: OrderedDict[bytes, tuple[bytes, SkuStock]] = OrderedDict()

    def decode(self, key: bytes, raw: bytes) -> SkuStock:
        """`decode_stock(raw)`, from memory when these are the bytes last seen for `key`."""
        known = self._recent.get(key)
        if known is not None and known[0] == raw:
            self._recent.move_to_end(key)
            return known[1]
        return self._remember(key, raw, decode_stock(raw))

    def encode(self, key: bytes, stock: SkuStock) -> bytes:
        """`encode_stock(stock)`, remembering both forms for the next event of `key`."""
        raw = encode_stock(stock)
        self._remember(key, raw, stock)
        return raw

    def _remember(self, key: bytes, raw: bytes, stock: SkuStock) -> SkuStock:
        self._recent[key] = (raw, stock)
        self._recent.move_to_end(key)
        if len(self._recent) > self._size:
            self._recent.popitem(last=False)
        return stock


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

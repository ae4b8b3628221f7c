"""The stock actor's decoded values: reused only while the stored bytes are the same."""

from tables.stock import Position, SkuStock
from tables.stock_table import StockValues, decode_stock, encode_stock


def stock(sku: str, on_hand: int) -> SkuStock:
    return SkuStock(sku=sku, positions=(Position("DC-EAST", on_hand=on_hand),), last_offset=7)


def test_the_value_it_wrote_is_read_back_without_decoding_again() -> None:
    values = StockValues()
    written = stock("SKU-1", 5)
    raw = values.encode(b"SKU-1", written)
    assert raw == encode_stock(written)
    assert values.decode(b"SKU-1", raw) is written


def test_other_bytes_for_the_key_are_decoded_afresh() -> None:
    values = StockValues()
    values.encode(b"SKU-1", stock("SKU-1", 5))
    # e.g. a rebalance brought the value another worker wrote
    newer = encode_stock(stock("SKU-1", 9))
    assert values.decode(b"SKU-1", newer) == decode_stock(newer)
    assert values.decode(b"SKU-1", newer).positions[0].on_hand == 9


def test_only_the_most_recently_used_keys_are_kept() -> None:
    values = StockValues(size=2)
    kept = {sku: stock(sku, n) for n, sku in enumerate(("A", "B", "C"))}
    raws = {sku: values.encode(sku.encode(), value) for sku, value in kept.items()}
    # A was the least recently used of three when C came: decoded again, B and C reused
    assert values.decode(b"A", raws["A"]) is not kept["A"]
    assert values.decode(b"A", raws["A"]) == kept["A"]
    assert values.decode(b"C", raws["C"]) is kept["C"]

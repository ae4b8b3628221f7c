"""The stock table's batch session: one SKU's value, its lines' rows, its backorder queue
and its seen ids.

Within a batch the SKU's value is decoded once, each order line's row and each of the
queue's rows are read on first use, and every event of the SKU is applied in order;
`write` then stores the value once, each changed line once (deleted when it holds
nothing), each changed row of the queue once and a seen row per applied id.
"""

import datetime as dt

import msgspec

from protocols.inventory import StockPickedShort, StockShipped
from protocols.reservations import StockCommand
from protocols.topics import StockInboxMessage
from tables.batch import BatchRunner, Delivery, Rows
from tables.errors import InvalidStockChange
from tables.keys import line_key, lines_prefix, value_key
from tables.seen import SeenIds, day_number
from tables.stock.apply import Applied, apply
from tables.stock.queue_rows import QueueRows
from tables.stock.shelf import shelf_id
from tables.stock.value import LineHolds, LineKey, Reservation, SkuStock

_inbox = msgspec.json.Decoder(StockInboxMessage)
_stock_encoder = msgspec.msgpack.Encoder()
_stock_decoder = msgspec.msgpack.Decoder(SkuStock)
_holds_decoder = msgspec.msgpack.Decoder(LineHolds)
_one_hold_decoder = msgspec.msgpack.Decoder(Reservation)


class StoredSkuStock(SkuStock, frozen=True):
    """A stored value as the first release wrote it too: lines and recent ids inside.

    Read on first touch, the lines become rows and the ids seen rows, and the value is
    written again without them: an upgrade loses no hold and no dedupe.
    """

    reservations: tuple[Reservation, ...] = ()
    recent_event_ids: tuple[str, ...] = ()


_stored_decoder = msgspec.msgpack.Decoder(StoredSkuStock)


def encode_stock(stock: SkuStock) -> bytes:
    """The stored form of a SKU's value."""
    return _stock_encoder.encode(stock)


def decode_stock(raw: bytes) -> SkuStock:
    """A stored SKU value, read back."""
    return _stock_decoder.decode(raw)


class StockSession:
    """One SKU's rows while a batch applies its events."""

    def __init__(self, rows: Rows, key: bytes, now: dt.datetime, zone: dt.tzinfo) -> None:
        self._rows = rows
        self._key = key
        self._now = now
        self._zone = zone
        self._stock: SkuStock | None = None
        self._changed = False
        self._lines: dict[LineKey, LineHolds] = {}
        self._changed_lines: set[LineKey] = set()
        self._seen: SeenIds | None = None
        self._queue: QueueRows | None = None
        raw = rows.get(key)
        if raw is not None:
            self._load(_stored_decoder.decode(raw))

    def apply(self, delivery: Delivery) -> Applied:
        """Apply one inbox message to the SKU in memory."""
        message = _inbox.decode(delivery.value)
        if self._key != value_key(message.sku):
            raise InvalidStockChange("key_mismatch", f"key {self._key!r} != sku {message.sku!r}")
        stock = self._stock or SkuStock(sku=message.sku)
        line = _line_of(message)
        seen = self._seen_ids(message.sku)
        shelf = shelf_id(message)  # the WMS line the bridge and the order side both name
        applied = apply(
            stock,
            message,
            delivery.offset,
            self._now,
            holds=() if line is None else self._holds(message.sku, line),
            seen=message.event_id in seen or (shelf is not None and shelf in seen),
            queue=self._queue_rows(message.sku),
            holds_of=lambda other: self._holds(message.sku, other),
            every_line=lambda: self._every_line(message.sku),
            zone=self._zone,
        )
        if not applied.duplicate:
            self._stock, self._changed = applied.stock, True
            if not applied.unheld:
                seen.add(message.event_id)
                if shelf is not None:
                    seen.add(shelf)
            changed = applied.lines if line is None else ((line, applied.holds), *applied.lines)
            for key, holds in changed:
                self._lines[key] = holds
                self._changed_lines.add(key)
            if applied.queue is not None:
                self._queue_rows(message.sku).record(applied.queue)
        return applied

    def write(self) -> None:
        """The value once, each changed line once, a seen row per applied id."""
        if self._stock is None or not self._changed:
            return
        sku = self._stock.sku
        self._rows.put(self._key, encode_stock(self._stock))
        for line in self._changed_lines:
            holds = self._lines[line]
            self._rows.put(line_key(sku, line), encode_holds(holds) if holds else None)
        if self._queue is not None:
            self._queue.write()
        if self._seen is not None:
            self._seen.write()

    def _load(self, stored: StoredSkuStock) -> None:
        """The value; a first-release value's lines and ids move to rows of their own."""
        self._stock = SkuStock(
            stored.sku,
            stored.positions,
            stored.last_offset,
            stored.version,
            queued=stored.queued,
            taken_back=stored.taken_back,
        )
        if not (stored.reservations or stored.recent_event_ids):
            return
        self._changed = True
        for record in stored.reservations:
            self._lines[record.key] = (record,)
            self._changed_lines.add(record.key)
        seen = self._seen_ids(stored.sku)
        for event_id in stored.recent_event_ids:
            seen.add(event_id)

    def _holds(self, sku: str, line: LineKey) -> LineHolds:
        """The line's holds, read from its row on first use."""
        if line not in self._lines:
            raw = self._rows.get(line_key(sku, line))
            self._lines[line] = () if raw is None else decode_holds(raw)
        return self._lines[line]

    def _queue_rows(self, sku: str) -> QueueRows:
        """The SKU's backorder queue, each of its rows read on first use."""
        if self._queue is None:
            self._queue = QueueRows(self._rows, sku)
        return self._queue

    def _every_line(self, sku: str) -> list[LineHolds]:
        """Every order line's holds on the SKU: its rows, as this batch has changed them."""
        stored = {key: decode_holds(raw) for key, raw in self._rows.with_prefix(lines_prefix(sku))}
        for line, holds in self._lines.items():
            stored[line_key(sku, line)] = holds
        return [holds for holds in stored.values() if holds]

    def _seen_ids(self, sku: str) -> SeenIds:
        if self._seen is None:
            self._seen = SeenIds(self._rows, sku, day_number(self._now))
        return self._seen


def stock_batches(now: dt.datetime, zone: dt.tzinfo = dt.UTC) -> BatchRunner[Applied]:
    """A runner for one batch of the stock inbox, applied at `now` (today as in `zone`)."""
    return BatchRunner(lambda rows, key: StockSession(rows, key, now, zone))


def _line_of(message: StockInboxMessage) -> LineKey | None:
    """The order line a command is about; None for a stock fact."""
    if isinstance(message, StockCommand | StockShipped | StockPickedShort):
        return (message.order_id, message.line_no)
    return None


def encode_holds(holds: LineHolds) -> bytes:
    """The stored form of an order line's holds on a SKU."""
    return _stock_encoder.encode(holds)


def decode_holds(raw: bytes) -> LineHolds:
    """A line's stored holds; a row of the release before holds one Reservation, read as one."""
    try:
        return _holds_decoder.decode(raw)
    except msgspec.ValidationError:
        return (_one_hold_decoder.decode(raw),)

"""Table partitions in memory: a dict as `Rows`, and one SKU's or order's rows fed message by
message through the real batch runner, as the table actors feed them."""

import datetime as dt

import msgspec

from protocols.topics import OrderInboxMessage, StockInboxMessage
from tables.batch import Delivery, Failed, MemoryRows
from tables.keys import SEPARATOR, line_key, lines_prefix, seen_key, value_key
from tables.order.apply import OrderApplied
from tables.order.batch import decode_order, encode_order, order_batches
from tables.order.value import Order
from tables.stock.apply import Applied
from tables.stock.batch import decode_holds, decode_stock, encode_holds, encode_stock, stock_batches
from tables.stock.value import LineHolds, Reservation, SkuStock

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
NOT_REFUSALS = ("malformed", "unexpected_error")
"""`Failed` reasons that are no rule's refusal: bytes that do not decode, or a bug."""


class DictRows(MemoryRows):
    """A table partition as a dict, and what tests read of it."""

    def under(self, entity: str) -> dict[bytes, bytes]:
        """Every row of `entity` but its value (a prefix scan), in key order."""
        prefix = value_key(entity) + SEPARATOR
        return {key: self[key] for key in sorted(self) if key.startswith(prefix)}


def delivery(entity: str, message: msgspec.Struct, offset: int | None) -> Delivery:
    """`message` as the input topic holds it, keyed by `entity` (a SKU or an order id)."""
    return Delivery(offset, value_key(entity), msgspec.json.encode(message))


def encode_line(*holds: Reservation) -> bytes:
    """An order line's row, as the stock table stores it."""
    return encode_holds(holds)


class StockTable:
    """One SKU's rows (its value, its lines' holds, its seen ids), fed through `stock_batches`."""

    def __init__(
        self,
        sku: str,
        now: dt.datetime = NOW,
        rows: DictRows | None = None,
        zone: dt.tzinfo = dt.UTC,
    ) -> None:
        self.sku = sku
        self.rows = DictRows() if rows is None else rows
        self._runner = stock_batches(now, zone)

    @classmethod
    def holding(cls, stock: SkuStock, *lines: Reservation, now: dt.datetime = NOW) -> "StockTable":
        """A table whose SKU already stands at `stock`, its order lines holding `lines`."""
        table = cls(stock.sku, now)
        table.rows.put(value_key(stock.sku), encode_stock(stock))
        by_line: dict[tuple[str, int], list[Reservation]] = {}
        for record in lines:
            by_line.setdefault(record.key, []).append(record)
        for key, holds in by_line.items():
            table.rows.put(line_key(stock.sku, key), encode_line(*holds))
        return table

    @property
    def stock(self) -> SkuStock:
        """The SKU's value as stored (an empty one before anything applied)."""
        raw = self.rows.get(value_key(self.sku))
        return SkuStock(sku=self.sku) if raw is None else decode_stock(raw)

    @property
    def lines(self) -> tuple[Reservation, ...]:
        """Every order line's holds on the SKU, by (order id, line no), then fill order."""
        rows = sorted(
            (key, decode_holds(raw))
            for key, raw in self.rows.under(self.sku).items()
            if key.startswith(lines_prefix(self.sku))
        )
        ordered = sorted(
            (hold.key, key, n, hold) for key, holds in rows for n, hold in enumerate(holds)
        )
        return tuple(hold for *_, hold in ordered)

    def holds(self, order_id: str, line_no: int) -> LineHolds:
        """One order line's holds, read from its row."""
        raw = self.rows.get(line_key(self.sku, (order_id, line_no)))
        return () if raw is None else decode_holds(raw)

    def line(self, order_id: str, line_no: int) -> Reservation | None:
        """One order line's only hold (None: it holds nothing)."""
        holds = self.holds(order_id, line_no)
        assert len(holds) <= 1, holds
        return holds[0] if holds else None

    def has_seen(self, event_id: str) -> bool:
        """Whether the SKU remembers applying `event_id`."""
        return self.rows.get(seen_key(self.sku, event_id)) is not None

    def deliver(
        self, message: StockInboxMessage, offset: int | None, key: str | None = None
    ) -> Applied | Failed:
        """Apply one delivery of `message` at `offset` (keyed by its SKU unless `key`)."""
        (outcome,) = self._runner.run(self.rows, [delivery(key or message.sku, message, offset)])
        return outcome

    def send(self, message: StockInboxMessage) -> Applied:
        """Deliver `message` at the next offset; it must apply."""
        outcome = self.deliver(message, self.stock.last_offset + 1)
        assert isinstance(outcome, Applied), outcome
        return outcome

    def refused(self, message: StockInboxMessage, offset: int | None = None) -> str:
        """The reason `message` is refused (at the next offset); no row changes."""
        before = dict(self.rows)
        at = self.stock.last_offset + 1 if offset is None else offset
        outcome = self.deliver(message, at)
        assert isinstance(outcome, Failed), outcome
        assert self.rows == before
        return outcome.reason


class OrderTable:
    """One order's rows (its value, its seen ids), fed through `order_batches`."""

    def __init__(self, order_id: str, auto_confirm: bool = False, now: dt.datetime = NOW) -> None:
        self.order_id = order_id
        self.rows = DictRows()
        self._runner = order_batches(now, auto_confirm)

    @classmethod
    def holding(cls, order: Order, auto_confirm: bool = False) -> "OrderTable":
        """A table whose order already stands at `order`."""
        table = cls(order.order_id, auto_confirm)
        table.rows.put(value_key(order.order_id), encode_order(order))
        return table

    @property
    def order(self) -> Order | None:
        """The order as stored, None before it was submitted."""
        raw = self.rows.get(value_key(self.order_id))
        return None if raw is None else decode_order(raw)

    @property
    def next_offset(self) -> int:
        """The offset after the last one the order applied."""
        order = self.order
        return 0 if order is None else order.last_offset + 1

    def has_seen(self, event_id: str) -> bool:
        """Whether the order remembers applying `event_id`."""
        return self.rows.get(seen_key(self.order_id, event_id)) is not None

    def deliver(self, message: OrderInboxMessage, offset: int | None) -> OrderApplied | Failed:
        """Apply one delivery of `message` at `offset`."""
        (outcome,) = self._runner.run(self.rows, [delivery(message.order_id, message, offset)])
        return outcome

    def send(self, *messages: OrderInboxMessage) -> OrderApplied:
        """Deliver `messages` in turn at the next offsets; each must apply. The last outcome."""
        outcome: OrderApplied | Failed | None = None
        for message in messages:
            outcome = self.deliver(message, self.next_offset)
            assert isinstance(outcome, OrderApplied), outcome
        assert isinstance(outcome, OrderApplied)
        return outcome

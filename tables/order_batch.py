"""The order table's batch session: one order's value and the ids it applied."""

import datetime as dt

import msgspec

from protocols.topics import OrderInboxMessage
from tables.batch import BatchRunner, Delivery, Rows
from tables.keys import value_key
from tables.orders import InvalidOrderTransition, Order, OrderApplied, apply
from tables.seen import SeenIds, day_number

_inbox = msgspec.json.Decoder(OrderInboxMessage)
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Order)


def encode_order(order: Order) -> bytes:
    """The stored form of an order."""
    return _encoder.encode(order)


def decode_order(raw: bytes) -> Order:
    """A stored order, read back."""
    return _decoder.decode(raw)


class OrderSession:
    """One order's rows while a batch applies its messages."""

    def __init__(self, rows: Rows, key: bytes, now: dt.datetime, auto_confirm: bool) -> None:
        self._rows = rows
        self._key = key
        self._now = now
        self._auto_confirm = auto_confirm
        raw = rows.get(key)
        self._order = None if raw is None else decode_order(raw)
        self._changed = False
        self._seen: SeenIds | None = None

    def apply(self, delivery: Delivery) -> OrderApplied:
        """Apply one inbox message to the order in memory."""
        message = _inbox.decode(delivery.value)
        if self._key != value_key(message.order_id):
            raise InvalidOrderTransition(
                "key_mismatch", f"key {self._key!r} != {message.order_id!r}"
            )
        seen = self._seen_ids(message.order_id)
        applied = apply(
            self._order,
            message,
            delivery.offset,
            self._now,
            self._auto_confirm,
            seen=message.event_id in seen,
        )
        if not applied.duplicate:
            self._order, self._changed = applied.order, True
            seen.add(message.event_id)
        return applied

    def write(self) -> None:
        """The order once, a seen row per applied id."""
        if self._order is None or not self._changed:
            return
        self._rows.put(self._key, encode_order(self._order))
        if self._seen is not None:
            self._seen.write()

    def _seen_ids(self, order_id: str) -> SeenIds:
        if self._seen is None:
            self._seen = SeenIds(self._rows, order_id, day_number(self._now))
        return self._seen


def order_batches(now: dt.datetime, auto_confirm: bool) -> BatchRunner[OrderApplied]:
    """A runner for one batch of the order inbox, applied at `now`."""
    return BatchRunner(lambda rows, key: OrderSession(rows, key, now, auto_confirm))

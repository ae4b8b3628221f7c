"""The order table's batch session: one order's value and the ids it applied."""

import datetime as dt

import msgspec

from protocols.orders import LineStatus, OrderStatus
from protocols.topics import OrderInboxMessage
from tables.batch import BatchRunner, Delivery, Rows
from tables.keys import value_key
from tables.order.apply import OrderApplied, apply
from tables.order.value import FINAL, Fill, InvalidOrderTransition, Order, OrderLine
from tables.seen import SeenIds, day_number

_inbox = msgspec.json.Decoder(OrderInboxMessage)
_encoder = msgspec.msgpack.Encoder()


class StoredOrderLine(OrderLine, frozen=True, kw_only=True):
    """A line as the release before stored it too: one warehouse's figures on the line itself.

    Read back, they become the line's one fill (`upgraded`). A line of this release has
    none of these keys, so they read as 0, and always has `fills`: a line without that key
    is the release before's, and only such a line is upgraded.
    """

    # UNSET: absent, so stored by the release before (wider than the base's type)
    fills: tuple[Fill, ...] | msgspec.UnsetType = msgspec.UNSET  # type: ignore[assignment]
    old_reserved: int = msgspec.field(default=0, name="reserved")
    old_allocated: int = msgspec.field(default=0, name="allocated")
    old_picked: int = msgspec.field(default=0, name="picked")
    old_shipped: int = msgspec.field(default=0, name="shipped")
    old_released: int = msgspec.field(default=0, name="released")

    def upgraded(self, shipped_order: bool) -> OrderLine:
        """The line as this release keeps it.

        The release before called an order SHIPPED with backordered units left: those were
        given up, so on a shipped order they read as cancelled.
        """
        fields = {name: getattr(self, name) for name in OrderLine.__struct_fields__}
        if self.fills is not msgspec.UNSET:
            return OrderLine(**fields)  # stored by this release: read as it was written
        figures = (self.old_reserved, self.old_allocated, self.old_shipped, self.old_released)
        where = self.warehouse
        fields["fills"] = (self._fill(where),) if any(figures) and where is not None else ()
        fields["cancelled"] = self._cancelled()
        if shipped_order and self.backordered:
            fields["backordered"] = 0
            fields["cancelled"] = fields["cancelled"] + self.backordered
        return OrderLine(**fields)

    def _fill(self, warehouse: str) -> Fill:
        """The one warehouse the line was served from, with what was done there."""
        confirmed = self.status in (LineStatus.PICKED, LineStatus.SHIPPED) or bool(self.old_picked)
        return Fill(
            warehouse=warehouse,
            reserved=self.old_reserved,
            allocated=self.old_allocated,
            picked=self.old_picked,
            shipped=self.old_shipped,
            released=self.old_released,
            pick_confirmed=confirmed,
        )

    def _cancelled(self) -> int:
        """What a closed line of the release before gave up: whatever did not ship."""
        closed = self.status in (LineStatus.CANCELLED, LineStatus.REJECTED)
        return self.qty - self.old_shipped if closed else 0


class StoredOrder(Order, frozen=True, kw_only=True):
    """An order as any release stored it."""

    lines: tuple[StoredOrderLine, ...]


class _StatusOnly(msgspec.Struct):
    """A stored order's status alone: the decoder skips the rest without building it."""

    status: OrderStatus


class _StoredLineKeys(msgspec.Struct):
    """Of a stored line, only whether it has `fills`: the rest is skipped, not decoded."""

    fills: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class _StoredLines(msgspec.Struct):
    """A stored order's lines, each read for its `fills` key alone."""

    lines: tuple[_StoredLineKeys, ...]


_decoder = msgspec.msgpack.Decoder(StoredOrder)
_current_decoder = msgspec.msgpack.Decoder(Order)
_lines_decoder = msgspec.msgpack.Decoder(_StoredLines)
_HEAD_FIELDS = (b"order_id", b"customer_id", b"channel", b"backorder")
_status_decoder = msgspec.msgpack.Decoder(_StatusOnly)


def encode_order(order: Order) -> bytes:
    """The stored form of an order."""
    return _encoder.encode(order)


def decode_order(raw: bytes) -> Order:
    """A stored order, read back (a line stored by the release before, upgraded).

    An order this release wrote (every line has `fills`) is decoded as it is: building it
    a second time from the stored form took as long as decoding it. Writing an upgraded
    order rewrites every line, so an order is either all this release's or all the one's
    before.
    """
    if all(line.fills is not msgspec.UNSET for line in _lines_decoder.decode(raw).lines):
        return _current_decoder.decode(raw)
    stored = _decoder.decode(raw)
    fields = {name: getattr(stored, name) for name in Order.__struct_fields__}
    shipped = stored.status in (OrderStatus.SHIPPED, OrderStatus.INVOICED)
    fields["lines"] = lines = tuple(line.upgraded(shipped) for line in stored.lines)
    if not stored.releases and any(line.released for line in lines):
        fields["releases"] = 1  # released by the release before, which did not count
    return Order(**fields)


def is_closed_order(raw: bytes) -> bool:
    """Whether a stored order is in a status it never leaves (REJECTED, CANCELLED, INVOICED)."""
    status = _leading_status(raw)
    if status is None:  # not laid out as this release writes it: decode the status properly
        status = _status_decoder.decode(raw).status
    return status in FINAL


def stored_status(raw: bytes) -> OrderStatus | None:
    """A stored order's status, read without decoding the order; None when unreadable."""
    try:
        return OrderStatus(_leading_status(raw) or _status_decoder.decode(raw).status)
    except (ValueError, msgspec.DecodeError):
        return None


def _leading_status(raw: bytes) -> str | None:
    """The status from the head of a stored order, without reading the rest (100x faster).

    msgspec writes an Order as a map of its fields in order, and every field before
    `status` is a string; anything else there gives None.
    """
    if raw[:1] != b"\xde":  # a map of 16 to 65,535 fields
        return None
    at = 3
    for _ in range(len(_HEAD_FIELDS) + 1):
        key, at = _short_str(raw, at)
        value, at = _short_str(raw, at)
        if key == b"status":
            return None if value is None else value.decode()
        if key not in _HEAD_FIELDS:
            return None
    return None


def _short_str(raw: bytes, at: int) -> tuple[bytes | None, int]:
    """A msgpack str of under 256 bytes at `at`, and where the next item starts (None: not one)."""
    head = raw[at] if at < len(raw) else 0
    if 0xA0 <= head <= 0xBF:
        size, at = head - 0xA0, at + 1
    elif head == 0xD9 and at + 1 < len(raw):
        size, at = raw[at + 1], at + 2
    else:
        return None, len(raw)
    return raw[at : at + size], at + size


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

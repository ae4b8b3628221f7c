"""How a table's rows are keyed: an entity's value, its lines' rows and the ids it applied.

Every row of an entity (a SKU, an order) starts with the entity's id, so all of them live
in the entity's partition and a prefix scan finds them. Ids never contain `|` (see
`protocols.ids`), so a value's key is the bare id and every other row has a `|` in it.
"""

import datetime as dt

from tables.stock.value import LineKey

SEPARATOR = b"|"
_LINE = "|r|"
_SEEN = "|d|"
_QUEUE = "|q"
_ANSWERS = "|a"
_BACKORDER = "|b|"
_WAITING = "|w|"
_END_OF_ID = ","  # sorts before every character an id may hold (`protocols.ids`)
_YEAR_ONE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def value_key(entity: str) -> bytes:
    """The key of an entity's value."""
    return entity.encode()


def is_value_key(key: bytes) -> bool:
    """Whether `key` names an entity's value rather than one of its rows."""
    return SEPARATOR not in key


def line_key(sku: str, line: LineKey) -> bytes:
    """The row of one order line's holds on a SKU (one per warehouse it was filled from)."""
    order_id, line_no = line
    return f"{sku}{_LINE}{order_id}|{line_no}".encode()


def queue_key(sku: str) -> bytes:
    """The head row of a SKU's backorder queue (`tables.stock.queue_rows`)."""
    return f"{sku}{_QUEUE}".encode()


def answers_key(sku: str) -> bytes:
    """The row of a SKU's backorder queue's recent answers (`tables.stock.queue_rows`)."""
    return f"{sku}{_ANSWERS}".encode()


def backorder_key(sku: str, submitted_at: dt.datetime, line: LineKey) -> bytes:
    """The row of one line waiting in a SKU's backorder queue; the keys sort as the queue.

    The order's submission (microseconds since year 1 in UTC, 18 digits), its id ended by
    a byte lower than any an id holds (so a shorter id sorts first, as in Python), the
    line number (6 digits).
    """
    at = submitted_at if submitted_at.tzinfo is not None else submitted_at.replace(tzinfo=dt.UTC)
    order_id, line_no = line
    micros = (at - _YEAR_ONE) // _MICROSECOND
    return f"{sku}{_BACKORDER}{micros:018d}|{order_id}{_END_OF_ID}{line_no:06d}".encode()


def backorders_prefix(sku: str) -> bytes:
    """What every waiting line's row on a SKU starts with: a prefix scan reads the queue."""
    return f"{sku}{_BACKORDER}".encode()


def waiting_key(sku: str, line: LineKey) -> bytes:
    """The row naming where an order line waits in the SKU's queue (its `backorder_key`)."""
    order_id, line_no = line
    return f"{sku}{_WAITING}{order_id}{_END_OF_ID}{line_no:06d}".encode()


def lines_prefix(sku: str) -> bytes:
    """What every order line's row on a SKU starts with (a prefix scan finds them all)."""
    return f"{sku}{_LINE}".encode()


def seen_key(entity: str, event_id: str) -> bytes:
    """The row remembering that `entity` applied the upstream message `event_id`."""
    return f"{entity}{_SEEN}{event_id}".encode()


def is_seen_key(key: bytes) -> bool:
    """Whether `key` is an applied-id row (which expires after the dedupe period).

    Only the part after the entity's id counts: a line row of the order `d` holds `|d|`.
    """
    _, separator, rest = key.partition(SEPARATOR)
    return bool(separator) and rest.startswith(_SEEN[1:].encode())

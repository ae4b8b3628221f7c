"""How a table's rows are keyed: an entity's value, its lines' rows and the ids it applied.

Every row of an entity (a SKU, an order) starts with the entity's id, so all of them live
in the entity's partition and a prefix scan finds them. Ids never contain `|` (see
`protocols.ids`), so a value's key is the bare id and every other row has a `|` in it.
"""

from tables.stock.value import LineKey

SEPARATOR = b"|"
_LINE = "|r|"
_SEEN = "|d|"
_QUEUE = "|q"


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
    """The row of a SKU's backorder queue (`tables.stock.backorder_queue`)."""
    return f"{sku}{_QUEUE}".encode()


def lines_prefix(sku: str) -> bytes:
    """What every order line's row on a SKU starts with (a prefix scan finds them all)."""
    return f"{sku}{_LINE}".encode()


def seen_key(entity: str, event_id: str) -> bytes:
    """The row remembering that `entity` applied the upstream message `event_id`."""
    return f"{entity}{_SEEN}{event_id}".encode()


def is_seen_key(key: bytes) -> bool:
    """Whether `key` is an applied-id row (which expires after the dedupe period)."""
    return _SEEN.encode() in key

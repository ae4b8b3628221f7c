"""Hostile messages on every input: a handful of kinds each, every one carrying a marker.

WMS events (AMQP) and ERP messages (Kafka) must each end up dead-lettered, never applied
and never stuck in front of good messages; HTTP bodies must be refused with a 4xx. The
marker (`POISON-<tag>-<n>`, ASCII even inside invalid UTF-8) finds each message again in
the dead-letter topic, so the accounting can say which were lost.
"""

from collections.abc import Iterator
from dataclasses import dataclass

Input = str  # "amqp:wms.events", "kafka:erp.order-decisions", "http:/v1/orders"...


@dataclass(frozen=True)
class Poison:
    """One hostile message: where it goes, what is wrong with it, its bytes and marker."""

    input: Input
    kind: str
    marker: str
    body: bytes


def _bodies(marker: str, warehouse: str) -> dict[Input, dict[str, bytes]]:
    """The hostile bodies of each input for one marker."""
    m = marker.encode()
    return {
        "amqp:wms.events": {
            "bad-xml": b"<receipt txn='" + m + b"'><line sku='X' qty='1'>",
            "invalid-utf8": b"<receipt txn='" + m + b"'>\xff\xfe\xc3\x28</receipt>",
            "unknown-type": f"<teleport txn='{marker}' warehouse='{warehouse}'/>".encode(),
            "wrong-types": (
                f"<receipt txn='{marker}' warehouse='{warehouse}'>"
                "<line sku='' qty='lots'/></receipt>"
            ).encode(),
        },
        "kafka:erp.order-decisions": {
            "bad-json": b'{"type": "OrderConfirmed", "order_id": "' + m + b'"',
            "invalid-utf8": b'{"type": "OrderConfirmed", "order_id": "' + m + b'\xff\xfe"}',
            "unknown-type": b'{"type": "OrderTeleported", "order_id": "' + m + b'"}',
        },
        "kafka:erp.supply": {
            "bad-json": b'{"type": "PoCreated", "po_id": "' + m + b'", ',
            "invalid-utf8": b'{"type": "PoCreated", "po_id": "' + m + b'\xc3\x28"}',
            "unknown-type": b'{"type": "PoTeleported", "po_id": "' + m + b'"}',
        },
        "http:/v1/orders": {
            "bad-json": b'{"customer_id": "' + m + b'", "lines": [',
            "invalid-utf8": b'{"customer_id": "' + m + b'\xff", "channel": "web", "lines": []}',
            "unknown-fields": b'{"customer_id": "' + m + b'", "teleport": true, "lines": []}',
        },
    }


def generate(tag: str, rounds: int, warehouse: str) -> Iterator[Poison]:
    """`rounds` of every kind on every input, each message with a marker of its own."""
    number = 0
    for _ in range(rounds):
        for input_name in _bodies("", warehouse):
            for kind in _bodies("", warehouse)[input_name]:
                number += 1
                marker = f"POISON-{tag}-{number:05d}"
                yield Poison(input_name, kind, marker, _bodies(marker, warehouse)[input_name][kind])

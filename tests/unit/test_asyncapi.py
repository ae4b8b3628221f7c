"""/asyncapi.json is valid AsyncAPI 3.0 and describes every topic and exchange distgate uses.

Validated against the AsyncAPI 3.0.0 JSON Schema from the AsyncAPI Initiative's
`@asyncapi/specs` package (6.11.1, Apache-2.0), kept in tests/support/schemas.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from aiohttp.test_utils import TestClient

from agents.runtime.cloud_events import CloudEvents
from agents.runtime.correlated import correlated
from app.api.asyncapi import asyncapi_document
from protocols.amqp import WMS_COMMANDS_EXCHANGE, WMS_EVENTS_EXCHANGE
from protocols.inventory import StockChanged
from protocols.topics import Topics
from protocols.wms import WMS_KINDS
from tests.support.api import api

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "support" / "schemas" / "asyncapi-3.0.0.json").read_text()
)


def _document(app_id: str) -> dict[str, Any]:
    return orjson.loads(asyncapi_document(app_id))


def test_the_document_is_valid_asyncapi_3() -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(_document("distgate"))


def test_an_invalid_document_is_caught() -> None:
    # Given the document with an operation whose action is neither send nor receive
    document = _document("distgate")
    next(iter(document["operations"].values()))["action"] = "publish"
    # Then the schema refuses it
    assert not jsonschema.Draft7Validator(SCHEMA).is_valid(document)


def test_every_topic_of_the_deployment_is_a_channel_under_its_own_name() -> None:
    # Given a deployment with its own app id
    document = _document("shop-b")
    addresses = {channel["address"] for channel in document["channels"].values()}
    # Then every topic it reads or writes is described, internal ones named from the app id
    assert {spec.name for spec in Topics.for_app("shop-b").all()} <= addresses
    assert "shop-b.stock-inbox" in addresses
    assert "distgate.stock-inbox" not in addresses


def test_every_order_event_type_has_its_schema() -> None:
    document = _document("distgate")
    orders = document["channels"]["orders_events"]["messages"]
    assert {"OrderSubmitted", "OrderShipped", "OrderCancelled"} <= set(orders)
    shipped = document["components"]["schemas"]["OrderShipped"]
    assert {"event_id", "order_id", "correlation_id", "lines"} <= set(shipped["properties"])


def test_the_step_events_and_their_details_have_schemas() -> None:
    # Given the document
    document = _document("distgate")
    orders = document["channels"]["orders_events"]["messages"]
    schemas = document["components"]["schemas"]
    # Then short picks, shipments and backorder fills are orders.events messages
    assert {"OrderPickedShort", "OrderShipmentDispatched", "OrderBackorderFilled"} <= set(orders)
    # with what happened, where, and the status the order stands at
    assert {"warehouse", "short", "status", "lines"} <= set(
        schemas["OrderPickedShort"]["properties"]
    )
    shipment = schemas["Shipment"]["properties"]
    assert {"warehouse", "carrier", "tracking", "lines", "at"} <= set(shipment)
    assert {"line_no", "sku", "filled"} <= set(schemas["OrderBackorderFilled"]["properties"])
    assert set(schemas["FilledUnits"]["properties"]) == {"warehouse", "qty"}
    assert set(schemas["FilledLine"]["properties"]) == {"line_no", "sku", "warehouse", "qty"}
    assert "cancelled" in schemas["OrderRemainderCancelled"]["properties"]
    # and the CRM view carries the same details
    crm = schemas["OrderStatusChanged"]["properties"]
    assert {"event_type", "short", "shipment", "filled", "cancelled"} <= set(crm)


def test_the_wms_exchanges_carry_every_kind() -> None:
    channels = _document("distgate")["channels"]
    events, commands = channels["wms_events"], channels["wms_commands_amqp"]
    assert events["bindings"]["amqp"]["exchange"]["name"] == WMS_EVENTS_EXCHANGE
    assert commands["bindings"]["amqp"]["exchange"]["name"] == WMS_COMMANDS_EXCHANGE
    assert set(events["parameters"]["kind"]["enum"]) == set(WMS_KINDS)
    assert set(events["messages"]) == set(WMS_KINDS.values())
    assert set(commands["messages"]) == {"Release", "Cancel"}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    return await aiohttp_client(api(tmp_path, tokens=[{"token": "t" * 16, "scopes": ["admin"]}]))


async def test_the_documents_are_served_without_a_token(client: TestClient) -> None:
    asyncapi = await client.get("/asyncapi.json")
    assert asyncapi.status == 200
    assert (await asyncapi.json())["asyncapi"] == "3.0.0"
    xsd = await client.get("/wms.xsd")
    assert xsd.status == 200
    assert xsd.content_type == "application/xml"
    assert b'<xs:element name="Receipt">' in await xsd.read()


def test_every_message_distgate_writes_declares_its_flow_headers() -> None:
    # Given the document
    document = _document("distgate")
    messages = document["components"]["messages"]

    def headers_of(name: str) -> str | None:
        ref = messages[name].get("headers", {}).get("$ref")
        return None if ref is None else str(ref).rsplit("/", 1)[1]

    # Then the external outputs declare CloudEvents headers, internal ones and the WMS
    # commands the flow headers, and what ERP sends none (distgate reads, not writes, it)
    assert headers_of("OrderShipped") == "CloudEventHeaders"
    assert headers_of("StockChanged") == "CloudEventHeaders"
    assert headers_of("OrderStatusChanged") == "CloudEventHeaders"
    assert headers_of("ReserveLine") == "FlowHeaders"
    assert headers_of("Release") == "FlowHeaders"
    assert headers_of("DeadLetter") == "FlowHeaders"
    assert headers_of("SafetyStockSet") is None
    assert messages["OrderShipped"]["correlationId"] == {
        "location": "$message.header#/correlation_id"
    }


def test_the_headers_distgate_builds_are_the_ones_it_declares() -> None:
    # Given the headers of a StockChanged as the stock agent builds them
    change = StockChanged(
        event_id="ev-1", sku="SKU-1", warehouse="DC-EAST", on_hand=5, blocked=0, reserved=1,
        allocated=0, safety_stock=0, atp=4, cause="ReserveLine",
        occurred_at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
    )  # fmt: skip
    built = CloudEvents("distgate", "stock").headers(correlated("corr-1"), change)
    as_text = {name: value.decode() for name, value in built}
    # Then they validate against the declared schema, and a broken traceparent does not
    schema = _document("distgate")["components"]["schemas"]["CloudEventHeaders"]
    jsonschema.Draft202012Validator(schema).validate(as_text)
    broken = as_text | {"traceparent": "00-xyz"}
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)

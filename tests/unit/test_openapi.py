"""The OpenAPI document is valid OpenAPI 3.1 and describes every route the API serves."""

from typing import Any

import orjson
from openapi_spec_validator import validate

from app.api.auth import TokenRegistry
from app.api.factory import ApiState, create_api
from app.api.openapi import openapi_document
from app.metrics import Metrics
from app.readiness import Readiness


def test_document_is_valid_openapi_3_1() -> None:
    # Given the rendered document, Then a validator accepts it
    document = orjson.loads(openapi_document())
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_served_route_is_documented() -> None:
    # Given the API as the worker builds it
    unused: Any = None  # the route table does not touch the handlers' state
    traces: Any = object()  # given, the trace endpoint is mounted
    state = ApiState(
        TokenRegistry(None), Metrics(), Readiness(), unused, unused, unused, unused, traces=traces
    )
    api = create_api(state)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in api.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    # When compared with the document's paths and methods
    paths = orjson.loads(openapi_document())["paths"]
    documented = {(method, path) for path, item in paths.items() for method in item}
    # Then every route is documented (the catch-all SKU and correlation id named plainly)
    normalised = {
        (m, p.replace("{sku:.+}", "{sku}").replace("{correlation_id:.+}", "{correlation_id}"))
        for m, p in served
    }
    assert normalised == documented


def test_an_order_documents_why_it_was_cancelled() -> None:
    schemas = orjson.loads(openapi_document())["components"]["schemas"]
    reason = schemas["OrderView"]["properties"]["cancel_reason"]
    assert reason == {"$ref": "#/components/schemas/CancelReason"}
    assert "cancel_reason" not in schemas["OrderView"]["required"]  # absent: never cancelled
    assert schemas["CancelReason"]["enum"] == ["customer", "decision_timeout", "rejected"]

"""The OpenAPI document is valid OpenAPI 3.1 and describes every route the API serves."""

import orjson
from openapi_spec_validator import validate

from app.api.auth import TokenRegistry
from app.api.factory import create_api
from app.api.openapi import openapi_document
from app.metrics import Metrics
from app.readiness import Readiness
from tables.stock import SkuStock


class _NoStock:
    ready = False

    def get(self, key: bytes) -> tuple[SkuStock, int] | None:
        return None


def test_document_is_valid_openapi_3_1() -> None:
    # Given the rendered document, Then a validator accepts it
    document = orjson.loads(openapi_document())
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_served_route_is_documented() -> None:
    # Given the API as the worker builds it
    api = create_api(TokenRegistry(None), Metrics(), Readiness(), _NoStock())
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in api.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    # When compared with the document's paths and methods
    paths = orjson.loads(openapi_document())["paths"]
    documented = {(method, path) for path, item in paths.items() for method in item}
    # Then every route is documented (the ATP path's catch-all SKU pattern named plainly)
    normalised = {(m, p.replace("{sku:.+}", "{sku}")) for m, p in served}
    assert normalised == documented

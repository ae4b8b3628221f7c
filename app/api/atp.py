"""Available-to-promise: `GET /v1/atp/{sku}` and `POST /v1/atp/check` (CONTRACT 2.2, 5)."""

import datetime as dt
import re

from aiohttp import web
from msgspec import structs

from app.api.bodies import checked, json_response, read_json
from app.api.keys import STOCK, TOKENS, ZONE
from app.api.readers import StockReader
from app.errors import NotFound, NotReady
from protocols.http import (
    ATP_CHECK_DECODER,
    ENCODER,
    AtpCheckResponse,
    AtpCheckResult,
    AtpResponse,
    AtpWarehouse,
    IncomingSupply,
)
from protocols.ids import SKU_PATTERN, WAREHOUSE_PATTERN
from tables.business_day import business_day
from tables.stock.atp import LineQuery, check_lines
from tables.stock.value import Position

_SKU = re.compile(SKU_PATTERN)
_WAREHOUSE = re.compile(WAREHOUSE_PATTERN)


def _reader(request: web.Request) -> StockReader:
    reader = request.app[STOCK]
    if not reader.ready:
        raise NotReady("stock is still being restored on this worker; retry shortly")
    return reader


async def get_atp(request: web.Request) -> web.Response:
    """A SKU's ATP per warehouse, optionally for one warehouse."""
    request.app[TOKENS].authorize(request.headers.get("Authorization"), "atp:read")
    sku = checked(request.match_info["sku"], _SKU, ("path", "sku"), "sku")
    warehouse = request.query.get("warehouse")
    if warehouse is not None:
        checked(warehouse, _WAREHOUSE, ("query", "warehouse"), "warehouse")
    found = _reader(request).get(sku.encode())
    if found is None:
        raise NotFound(f"SKU {sku!r} has never been seen")
    stock, written_ms = found
    positions = [p for p in stock.positions if warehouse is None or p.warehouse == warehouse]
    answer = AtpResponse(
        sku=sku,
        atp=sum(p.atp for p in positions),
        warehouses=tuple(_warehouse_view(p) for p in positions),
        as_of=dt.datetime.fromtimestamp(written_ms / 1000, dt.UTC),
    )
    return json_response(answer, ENCODER)


def _warehouse_view(position: Position) -> AtpWarehouse:
    return AtpWarehouse(
        warehouse=position.warehouse,
        on_hand=position.on_hand,
        blocked=position.blocked,
        reserved=position.reserved,
        allocated=position.allocated,
        safety_stock=position.safety_stock,
        atp=position.atp,
        incoming=tuple(IncomingSupply(s.po_id, s.qty, s.eta) for s in position.incoming),
    )


async def check_atp(request: web.Request) -> web.Response:
    """Can these lines be promised, from where, and by when?"""
    request.app[TOKENS].authorize(request.headers.get("Authorization"), "atp:read")
    body = await read_json(request, ATP_CHECK_DECODER)
    reader = _reader(request)
    stocks = {}
    for line in body.lines:
        found = reader.get(line.sku.encode())
        if found is not None:
            stocks[line.sku] = found[0]
    queries = [LineQuery(line.sku, line.qty, line.warehouse) for line in body.lines]
    today = business_day(dt.datetime.now(dt.UTC), request.app[ZONE])
    answers = check_lines(queries, stocks, today)
    results = tuple(AtpCheckResult(**structs.asdict(answer)) for answer in answers)
    return json_response(AtpCheckResponse(lines=results), ENCODER)


def add_routes(app: web.Application) -> None:
    """Mount the ATP endpoints."""
    app.router.add_post("/v1/atp/check", check_atp)
    app.router.add_get("/v1/atp/{sku:.+}", get_atp)

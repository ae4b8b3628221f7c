"""The order API as CRM and web shops see it: customer-bound tokens, validation, long-poll."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.dev.workers import WorkerProcess
from app.settings import Settings
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import call, gateway_with_tokens, receive, retire

pytestmark = pytest.mark.brokers

SHOP = "shop-token-0123456789abc"
C42 = "c42-token-0123456789abcd"
READ_ONLY = "read-token-0123456789abc"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def gateway(
    brokers: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[WorkerProcess, str]]:
    """A worker with shop-wide, customer-bound and read-only tokens; a SKU with stock."""
    worker = await gateway_with_tokens(
        brokers,
        tmp_path_factory.mktemp("orders-api"),
        [
            {"token": SHOP, "scopes": ["orders:read", "orders:write", "atp:read"]},
            {"token": C42, "scopes": ["orders:read", "orders:write"], "customer_id": "C-42"},
            {"token": READ_ONLY, "scopes": ["orders:read"]},
        ],
    )
    try:
        sku = unique("SKU")
        await receive(worker, sku, "DC-EAST", 100)
        await eventually(
            lambda: call(worker.url, "GET", f"/v1/atp/{sku}", headers=bearer(SHOP)),
            lambda r: r[0] == 200,
        )
        yield worker, sku
    finally:
        await retire(worker)


def order_body(sku: str, customer: str = "C-42", **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "channel": "web",
        "lines": [{"line_no": 1, "sku": sku, "qty": 1}],
        **extra,
    }


async def test_a_submitted_order_is_readable_at_once_with_location(gateway: Any) -> None:
    worker, sku = gateway
    # When an order is accepted
    status, body = await call(
        worker.url,
        "POST",
        "/v1/orders",
        json=order_body(sku),
        headers={**bearer(SHOP), "X-Correlation-ID": "corr-1"},
    )
    # Then 202 names it, and a GET right after never 404s
    assert status == 202
    assert body["status"] == "SUBMITTED"
    assert body["correlation_id"] == "corr-1"
    status, order = await call(
        worker.url, "GET", f"/v1/orders/{body['order_id']}", headers=bearer(SHOP)
    )
    assert status == 200
    assert order["customer_id"] == "C-42"
    assert order["correlation_id"] == "corr-1"
    assert set(order) == {
        "order_id",
        "customer_id",
        "channel",
        "status",
        "lines",
        "history",
        "correlation_id",
        "version",
        "shipments",
    }
    assert order["shipments"] == []  # none yet: each shipment adds its tracking here


async def test_customer_bound_tokens_see_only_their_orders(gateway: Any) -> None:
    worker, sku = gateway
    # Given an order of C-7 placed by the shop
    _, other = await call(
        worker.url, "POST", "/v1/orders", json=order_body(sku, "C-7"), headers=bearer(SHOP)
    )
    # When C-42's token reads or cancels it, Then 404, as if it did not exist
    path = f"/v1/orders/{other['order_id']}"
    assert (await call(worker.url, "GET", path, headers=bearer(C42)))[0] == 404
    assert (await call(worker.url, "POST", path + "/cancel", headers=bearer(C42)))[0] == 404
    # And C-42's token may not place orders for C-7
    status, _ = await call(
        worker.url, "POST", "/v1/orders", json=order_body(sku, "C-7"), headers=bearer(C42)
    )
    assert status == 403
    # But it reads its own
    _, own = await call(worker.url, "POST", "/v1/orders", json=order_body(sku), headers=bearer(C42))
    assert (await call(worker.url, "GET", f"/v1/orders/{own['order_id']}", headers=bearer(C42)))[
        0
    ] == 200
    # And a read-only token may not write
    status, _ = await call(
        worker.url, "POST", "/v1/orders", json=order_body(sku), headers=bearer(READ_ONLY)
    )
    assert status == 403


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"price": 10}, ["body", "price"]),
        ({"status": "SHIPPED"}, ["body", "status"]),
        ({"backorder": "maybe"}, ["body", "backorder"]),
        ({"lines": []}, ["body", "lines"]),
        (
            {"lines": [{"line_no": 1, "sku": "S", "qty": 1}, {"line_no": 1, "sku": "T", "qty": 1}]},
            ["body", "lines", 1, "line_no"],
        ),
        (
            {"lines": [{"line_no": 1, "sku": "S", "qty": 1, "price": 2}]},
            ["body", "lines", 0, "price"],
        ),
    ],
)
async def test_bad_orders_are_422_with_where(gateway: Any, change: Any, loc: list[Any]) -> None:
    worker, sku = gateway
    status, problem = await call(
        worker.url, "POST", "/v1/orders", json={**order_body(sku), **change}, headers=bearer(SHOP)
    )
    assert status == 422, problem
    assert problem["errors"][0]["loc"] == loc


async def test_wait_for_holds_until_the_status_or_the_timeout(gateway: Any) -> None:
    worker, sku = gateway
    _, body = await call(
        worker.url, "POST", "/v1/orders", json=order_body(sku), headers=bearer(SHOP)
    )
    path = f"/v1/orders/{body['order_id']}"
    # When a client waits for RESERVED, Then it gets the order once reserved
    _, order = await call(
        worker.url, "GET", path + "?wait_for=RESERVED&timeout=20", headers=bearer(SHOP)
    )
    assert order["status"] == "RESERVED"
    # When it waits for SHIPPED with a short timeout, Then it gets the current state after it
    status, order = await call(
        worker.url, "GET", path + "?wait_for=SHIPPED&timeout=0.5", headers=bearer(SHOP)
    )
    assert status == 200
    assert order["status"] == "RESERVED"
    # And a timeout over 30 s or an unknown status is 422
    for query in ("?wait_for=SHIPPED&timeout=31", "?wait_for=TELEPORTED"):
        assert (await call(worker.url, "GET", path + query, headers=bearer(SHOP)))[0] == 422
    # And an order never seen is 404
    assert (await call(worker.url, "GET", f"/v1/orders/{unique('nope')}", headers=bearer(SHOP)))[
        0
    ] == 404

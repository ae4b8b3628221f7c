"""The ATP API as a web shop sees it: tokens and scopes, limits, and problem+json errors."""

import datetime as dt
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.dev.workers import WorkerProcess, current_env, worker_env
from app.settings import Settings
from protocols.inventory import StockReceived
from tests.support.kafka import produce, unique
from tests.support.polling import eventually
from tests.support.shop import gateway_with_tokens, retire

pytestmark = pytest.mark.brokers

READER = "reader-token-0123456789"
WRITER = "writer-token-0123456789"
AUTH = {"Authorization": f"Bearer {READER}"}


@pytest.fixture(scope="module")
async def shop(brokers: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    """A worker with a tokens file, and a SKU with 12 in DC-EAST."""
    worker = await gateway_with_tokens(
        brokers,
        tmp_path_factory.mktemp("atp-api"),
        [
            {"token": READER, "scopes": ["atp:read"]},
            {"token": WRITER, "scopes": ["orders:write"], "customer_id": "C-42"},
        ],
    )
    try:
        sku = unique("SKU")
        receipt = StockReceived(
            event_id=unique("r"),
            sku=sku,
            warehouse="DC-EAST",
            occurred_at=dt.datetime.now(dt.UTC),
            qty=12,
        )
        inbox = worker.settings.topics.stock_inbox.name
        await produce(brokers.kafka_bootstrap, inbox, [(sku.encode(), receipt)])
        await eventually(
            lambda: request(worker, "GET", f"/v1/atp/{sku}", headers=AUTH), lambda r: r[0] == 200
        )
        yield worker, sku
    finally:
        await retire(worker)


async def request(worker: WorkerProcess, method: str, path: str, **kw: Any) -> tuple[int, Any, Any]:
    async with aiohttp.ClientSession() as http, http.request(method, worker.url + path, **kw) as r:
        body = await r.read()
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body
        return r.status, parsed, r.headers


def assert_problem(status: int, body: Any, headers: Any, expected: int) -> None:
    assert status == expected, body
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["status"] == expected
    assert body["title"]
    assert body["detail"]
    assert body["type"]


async def test_atp_answers_with_the_contract_fields(shop: Any) -> None:
    worker, sku = shop
    # When a shop asks for the SKU with a reader token
    status, body, headers = await request(worker, "GET", f"/v1/atp/{sku}", headers=AUTH)
    # Then it gets every contract field, ATP summed over warehouses
    assert status == 200
    assert set(body) == {"sku", "atp", "warehouses", "as_of"}
    assert body["atp"] == 12
    assert set(body["warehouses"][0]) == {
        "warehouse",
        "on_hand",
        "blocked",
        "reserved",
        "allocated",
        "safety_stock",
        "atp",
        "incoming",
    }
    assert headers["X-Correlation-ID"]
    # And a check of 5 is available today from DC-EAST, 13 is not and has no date
    status, body, _ = await request(
        worker,
        "POST",
        "/v1/atp/check",
        headers=AUTH,
        json={"lines": [{"sku": sku, "qty": 5}, {"sku": sku, "qty": 13, "warehouse": "DC-EAST"}]},
    )
    assert status == 200
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert body["lines"] == [
        {
            "sku": sku,
            "qty": 5,
            "available": True,
            "warehouse": "DC-EAST",
            "atp": 12,
            "promise_date": today,
        },
        {
            "sku": sku,
            "qty": 13,
            "available": False,
            "warehouse": "DC-EAST",
            "atp": 7,
            "promise_date": None,
        },
    ]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-known-token-at-all"}, 401),
        ({"Authorization": READER}, 401),
        ({"Authorization": f"Bearer {WRITER}"}, 403),
    ],
)
async def test_tokens_and_scopes_are_enforced(shop: Any, headers: Any, expected: int) -> None:
    worker, sku = shop
    # When a request comes without a valid token, or without the atp:read scope
    status, body, response_headers = await request(worker, "GET", f"/v1/atp/{sku}", headers=headers)
    # Then it is refused with problem+json
    assert_problem(status, body, response_headers, expected)


async def test_operational_endpoints_need_no_token(shop: Any) -> None:
    worker, _ = shop
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        status, _, _ = await request(worker, "GET", path)
        assert status == 200, path


@pytest.mark.parametrize(
    ("kwargs", "expected", "loc"),
    [
        ({"data": b"sku=1", "headers": {"Content-Type": "text/plain"}}, 415, None),
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 415, None),
        ({"json": {"lines": [{"sku": "SKU-1", "qty": 0}]}}, 422, ["body", "lines", 0, "qty"]),
        (
            {"json": {"lines": [{"sku": "SKU-1", "qty": 1_000_001}]}},
            422,
            ["body", "lines", 0, "qty"],
        ),
        ({"json": {"lines": [{"sku": "bad sku", "qty": 1}]}}, 422, ["body", "lines", 0, "sku"]),
        (
            {"json": {"lines": [{"sku": "SKU-1", "qty": 1, "price": 3}]}},
            422,
            ["body", "lines", 0, "price"],
        ),
        ({"json": {"lines": [{"sku": "SKU-1", "qty": 1}] * 501}}, 422, ["body", "lines"]),
        ({"json": {"lines": [{"sku": "SKU-1", "qty": "2"}]}}, 422, ["body", "lines", 0, "qty"]),
    ],
)
async def test_bad_checks_get_problem_json(
    shop: Any, kwargs: Any, expected: int, loc: list[Any] | None
) -> None:
    worker, _ = shop
    headers = {**AUTH, **kwargs.pop("headers", {})}
    # When a check body is not JSON or breaks the contract
    status, body, response_headers = await request(
        worker, "POST", "/v1/atp/check", headers=headers, **kwargs
    )
    # Then the answer is problem+json, and a 422 says where
    assert_problem(status, body, response_headers, expected)
    if loc is not None:
        assert body["errors"][0]["loc"] == loc


async def test_a_body_over_256_kib_is_refused(shop: Any) -> None:
    worker, _ = shop
    oversize = b'{"lines": [' + b" " * (256 * 1024) + b"]}"
    status, body, headers = await request(
        worker,
        "POST",
        "/v1/atp/check",
        data=oversize,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert_problem(status, body, headers, 413)


async def test_unknown_and_invalid_skus(shop: Any) -> None:
    worker, _ = shop
    # A SKU never seen is 404; an invalid one is 422 pointing at the path
    status, body, headers = await request(worker, "GET", f"/v1/atp/{unique('NEVER')}", headers=AUTH)
    assert_problem(status, body, headers, 404)
    status, body, headers = await request(worker, "GET", "/v1/atp/-bad", headers=AUTH)
    assert_problem(status, body, headers, 422)
    assert body["errors"][0]["loc"] == ["path", "sku"]
    status, body, headers = await request(
        worker, "GET", "/v1/atp/SKU-1?warehouse=dc-east", headers=AUTH
    )
    assert_problem(status, body, headers, 422)
    assert body["errors"][0]["loc"] == ["query", "warehouse"]


def test_a_bad_tokens_file_stops_the_worker(tmp_path: Path) -> None:
    # A malformed tokens file stops the worker before it serves anything
    bad = tmp_path / "tokens.json"
    bad.write_text('[{"token": "short", "scopes": ["atp:read"]}]')
    env = {**worker_env(current_env(), tmp_path, "unused"), "DISTGATE_API_TOKENS_FILE": str(bad)}
    result = subprocess.run(
        [sys.executable, "-m", "app", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "entry 0 has a token under 16 characters" in result.stderr

"""Hostile or careless callers cost a worker bounded memory and CPU, and it keeps serving."""

import asyncio
import json
import time
from pathlib import Path

import pytest
from yarl import URL

from agents.deadletters import dead_letter_id
from agents.wms_canonical import delivery_digest
from app.settings import Settings
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import call, receive
from tests.support.wms import metric, positions, publish_xml, unique_warehouse

pytestmark = pytest.mark.brokers

SHOP = "shop-token-0123456789"
LIMITED = "limited-token-0123456789"
ADMIN = "admin-token-0123456789"
ALL_SCOPES = ["atp:read", "orders:read", "orders:write", "admin"]
PROBLEM = "application/problem+json"


def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            [
                {"token": SHOP, "scopes": ALL_SCOPES},
                {"token": LIMITED, "scopes": ["atp:read"], "rate_limit_per_s": 2},
            ]
        )
    )
    return path


def bearer(token: str) -> dict[str, dict[str, str]]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


async def test_rate_limits_long_poll_caps_and_slow_clients_are_answered_not_queued(
    spawn_worker: SpawnWorker, tmp_path: Path
) -> None:
    # Given a worker that holds one long poll at most, waits 1 s for a body and 2 s for headers
    worker = spawn_worker(
        DISTGATE_API_TOKENS_FILE=str(tokens_file(tmp_path)),
        DISTGATE_MAX_LONG_POLLS="1",
        DISTGATE_HTTP_BODY_TIMEOUT_S="1",
        DISTGATE_HTTP_IDLE_TIMEOUT_S="2",
    )
    await worker.wait_ready()
    # When a token limited to 2 requests a second sends 12 at once
    started = time.monotonic()
    answers = await asyncio.gather(
        *(call(worker.url, "GET", "/v1/atp/NO-SUCH-SKU", **bearer(LIMITED)) for _ in range(12))
    )
    elapsed = time.monotonic() - started
    # Then the burst of 2, and 2 more for each second the requests took to arrive, are served
    # (404: no such SKU), and the rest are 429 problem+json
    served = [status for status, _ in answers].count(404)
    assert 2 <= served <= 2 + int(2 * elapsed), (served, elapsed)
    assert sorted(status for status, _ in answers) == [404] * served + [429] * (12 - served)
    refused = next(body for status, body in answers if status == 429)
    assert refused["status"] == 429
    # When an order waits for ERP and one long poll on it is held
    sku, where = unique("SKU"), unique_warehouse()
    await receive(worker, sku, where, 5)
    await eventually(lambda: call(worker.url, "GET", f"/v1/atp/{sku}", **bearer(SHOP)),
                     lambda r: r[0] == 200)  # fmt: skip
    order = {
        "customer_id": "C-1",
        "channel": "web",
        "lines": [{"line_no": 1, "sku": sku, "qty": 1}],
    }
    status, accepted = await call(worker.url, "POST", "/v1/orders", json=order, **bearer(SHOP))
    assert status == 202, accepted
    order_id = accepted["order_id"]
    reserved = f"/v1/orders/{order_id}?wait_for=RESERVED&timeout=30"
    assert (await call(worker.url, "GET", reserved, **bearer(SHOP)))[1]["status"] == "RESERVED"
    waiting = f"/v1/orders/{order_id}?wait_for=SHIPPED"
    held = asyncio.ensure_future(call(worker.url, "GET", f"{waiting}&timeout=20", **bearer(SHOP)))
    held_now = 'distgate_http_waiting{kind="long_poll"}'
    await eventually(lambda: metric(worker.url, held_now), lambda n: n == 1)
    status, second = await call(worker.url, "GET", f"{waiting}&timeout=20", **bearer(SHOP))
    # Then a second long poll is refused at once, 503 problem+json, and reads still work
    assert (status, second["status"]) == (503, 503)
    assert (await call(worker.url, "GET", f"/v1/orders/{order_id}", **bearer(SHOP)))[0] == 200
    held.cancel()
    # When a client sends headers promising a body it never finishes
    answer = await raw_exchange(worker.url, b"POST /v1/atp/check HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer " + SHOP.encode() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{\"lines\":")  # fmt: skip
    # Then it is answered 408 and the connection is closed
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"Connection: close" in answer
    # And a client that never finishes its headers is disconnected
    assert await raw_exchange(worker.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") == b""


async def raw_exchange(url: str, sent: bytes) -> bytes:
    """Send `sent`, stop sending, and read until the server closes (at most 30 s)."""
    where = URL(url)
    reader, writer = await asyncio.open_connection(where.host, where.port)
    try:
        writer.write(sent)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()


async def test_hostile_xml_is_a_dead_letter_shown_whole_by_id_while_the_worker_keeps_serving(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker (open API on loopback)
    worker = spawn_worker()
    await worker.wait_ready()
    where, sku = unique_warehouse(), unique("SKU")
    # When a WMS sends 100,000 nested elements, then 200,000 siblings, then a valid receipt
    deep = f'<Receipt txn="R-1" warehouse="{where}">'.encode() + b"<a>" * 100_000
    wide = f'<Receipt txn="R-2" warehouse="{where}">'.encode() + b"<b/>" * 200_000
    good = f'<Receipt txn="R-3" warehouse="{where}"><Line sku="{sku}" qty="7"/></Receipt>'
    await publish_xml(
        deployment.amqp_url,
        [(f"{where}.receipt", body) for body in (deep, wide, good.encode())],
    )
    # Then the receipt after them applies
    found = await eventually(lambda: positions(worker.url, sku), lambda p: p is not None)
    assert found is not None
    assert found[where]["on_hand"] == 7
    # And both hostile ones are dead letters for xml_too_large, shown whole by id
    for body in (deep, wide):
        path = f"/v1/admin/dead-letters/{letter_id(deployment, f'{where}.receipt', body)}"
        status, whole = await eventually(
            lambda path=path: call(worker.url, "GET", path), lambda r: r[0] == 200
        )
        assert (whole["reason"], whole["preview"]) == ("xml_too_large", False)
        assert whole["payload"].encode() == body
    # And a listing holds previews only, at most 100, and more is refused
    status, listing = await call(worker.url, "GET", "/v1/admin/dead-letters?limit=100")
    assert status == 200
    assert 0 < len(listing["dead_letters"]) <= 100
    assert all(len(d["payload"]) <= 2048 for d in listing["dead_letters"])
    assert (await call(worker.url, "GET", "/v1/admin/dead-letters?limit=101"))[0] == 422
    assert (await call(worker.url, "GET", f"/v1/admin/dead-letters/{'0' * 20}"))[0] == 404


def letter_id(deployment: Settings, routing_key: str, body: bytes) -> str:
    """The id the bridge gives the dead letter of this delivery (stable per message)."""
    position = f"{routing_key}:{delivery_digest(routing_key, body)}"
    return dead_letter_id("amqp", deployment.wms_queues.events.name, position)

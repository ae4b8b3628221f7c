"""Hostile or unlucky requests get a clear problem+json: bad UTF-8, Kafka down, wrong method."""

import asyncio
import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

import app.commands
from app.api.auth import presented_token
from app.api.keys import COMMANDS
from app.dlq import DeadLetterAdmin
from app.read.deadletter_index import DeadLetterIndex, IndexedLetter
from app.settings import Settings
from protocols.deadletters import DeadLetter
from tests.support.api import FailingKafka, MemoryOrders, api

PROBLEM = "application/problem+json"
ORDER = b'{"customer_id":"C-42","channel":"web","lines":[{"line_no":1,"sku":"SKU-1","qty":2}]}'
JSON = {"Content-Type": "application/json"}


async def test_invalid_utf8_inside_a_json_string_is_415(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given the API
    client: TestClient = await aiohttp_client(api(tmp_path))
    # When an order arrives with a byte that is not UTF-8 inside its customer id
    body = ORDER.replace(b"C-42", b"C-\xff")
    response = await client.post("/v1/orders", data=body, headers=JSON)
    # Then it is refused as 415 problem+json, not a 500
    assert response.status == 415
    assert response.content_type == PROBLEM
    assert "UTF-8" in (await response.json(content_type=PROBLEM))["detail"]


@pytest.mark.parametrize(
    "error",
    [KafkaConnectionError("no broker"), KafkaTimeoutError()],
    ids=["connection refused", "timeout"],
)
async def test_an_order_kafka_does_not_acknowledge_is_503_with_retry_after(
    aiohttp_client: Any, tmp_path: Path, error: Exception
) -> None:
    # Given the API with a Kafka that cannot be reached
    client: TestClient = await aiohttp_client(api(tmp_path, kafka=FailingKafka(error)))
    # When an order is submitted
    response = await client.post("/v1/orders", data=ORDER, headers=JSON)
    # Then it is not accepted: 503 problem+json that says when to retry
    assert response.status == 503
    assert response.content_type == PROBLEM
    assert response.headers["Retry-After"] == "5"
    assert "Kafka" in (await response.json(content_type=PROBLEM))["detail"]


class SilentKafka:
    """A Kafka that takes a command and never answers."""

    async def send_and_wait(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        await asyncio.Event().wait()


async def test_an_order_kafka_never_answers_is_503_after_the_bounded_wait(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API with a Kafka that never acknowledges, and a short wait
    monkeypatch.setattr(app.commands, "SEND_WAIT", 0.1)
    client: TestClient = await aiohttp_client(api(tmp_path, kafka=SilentKafka()))
    # When an order is submitted
    response = await client.post("/v1/orders", data=ORDER, headers=JSON)
    # Then the answer is 503 with Retry-After, never 202
    assert (response.status, response.headers["Retry-After"]) == (503, "5")


async def test_a_cancel_kafka_does_not_acknowledge_is_503(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given an accepted order, then Kafka gone
    service = api(tmp_path)
    client: TestClient = await aiohttp_client(service)
    accepted = await (await client.post("/v1/orders", data=ORDER, headers=JSON)).json()
    commands = service[COMMANDS]
    commands._producer = FailingKafka(KafkaConnectionError("no broker"))
    # When the order is cancelled
    response = await client.post(f"/v1/orders/{accepted['order_id']}/cancel")
    # Then the cancel is not accepted: 503 with Retry-After
    assert (response.status, response.content_type) == (503, PROBLEM)
    assert response.headers["Retry-After"] == "5"


class OneLetterMirror:
    """A dead-letter mirror that has read one letter."""

    ready = True

    def __init__(self, letter: DeadLetter) -> None:
        self.index = DeadLetterIndex()
        self.index.add(IndexedLetter(letter, partition=0, offset=0, payload_size=3))


async def test_a_replay_with_kafka_unreachable_is_503_with_retry_after(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given a dead letter, and Kafka at an address where nothing listens
    letter = DeadLetter(
        id="0" * 20, source="kafka", origin="erp.supply", reason="malformed", error="x",
        at=dt.datetime.now(dt.UTC), payload=b"bad",
    )  # fmt: skip
    settings = Settings.from_env({"DISTGATE_KAFKA_URL": "kafka://127.0.0.1:1"})
    admin = DeadLetterAdmin(settings, OneLetterMirror(letter))  # type: ignore[arg-type]
    client: TestClient = await aiohttp_client(api(tmp_path, dead_letters=admin))
    # When an operator replays it
    response = await client.post(f"/v1/admin/dead-letters/{letter.id}/replay")
    # Then the answer is 503 problem+json with Retry-After
    assert (response.status, response.content_type) == (503, PROBLEM)
    assert response.headers["Retry-After"] == "5"


async def test_a_wrong_method_is_405_problem_json_saying_what_is_allowed(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given the API
    client: TestClient = await aiohttp_client(api(tmp_path))
    # When an order is DELETEd
    response = await client.delete("/v1/orders/SO-1")
    # Then 405 problem+json names the methods the resource has
    assert (response.status, response.content_type) == (405, PROBLEM)
    assert set(response.headers["Allow"].split(",")) >= {"GET"}


class CutOffOrders(MemoryOrders):
    """A mirror whose Kafka cannot be asked where the changelog ends."""

    async def sync(self, within: float) -> bool:
        raise KafkaConnectionError("no broker")


async def test_an_order_not_mirrored_while_kafka_is_unreachable_is_503_not_404(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given a worker whose mirror lacks the order and cannot reach Kafka to catch up
    client: TestClient = await aiohttp_client(api(tmp_path, orders=CutOffOrders()))
    # When the order is read
    response = await client.get("/v1/orders/SO-9")
    # Then the answer is 503 with Retry-After, never a 404 that may be wrong
    assert (response.status, response.headers["Retry-After"]) == (503, "5")


def test_the_token_may_come_as_bearer_or_as_the_basic_password() -> None:
    token = "a-token-of-enough-length"
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    assert presented_token(f"Bearer {token}") == token
    assert presented_token(f"Basic {basic}") == token
    assert presented_token("Basic not-base64!") is None
    assert presented_token(f"Basic {base64.b64encode(b'no-colon').decode()}") is None
    assert presented_token("Digest abc") is None
    assert presented_token(None) is None

"""Play a WMS from tests: publish raw XML, tap dead-lettered AMQP messages, read stock positions."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
import aiohttp
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from app.settings import Settings
from protocols.amqp import WMS_COMMANDS_EXCHANGE, WMS_EVENTS_EXCHANGE


def unique_warehouse() -> str:
    """A warehouse code no earlier run used, so routing keys and queues are this test's own."""
    return f"T{uuid.uuid4().hex[:9].upper()}"


async def publish_xml(amqp_url: str, messages: list[tuple[str, bytes]], **properties: Any) -> None:
    """Publish (routing key, body) pairs to `wms.events` with confirms, in order."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(WMS_EVENTS_EXCHANGE)
        for key, body in messages:
            message = aio_pika.Message(body, content_type="application/xml", **properties)
            await exchange.publish(message, key)


async def publish_named(amqp_url: str, messages: list[tuple[str, bytes, str]]) -> None:
    """Publish (routing key, body, message id) to `wms.events` with confirms, in order."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(WMS_EVENTS_EXCHANGE)
        for key, body, message_id in messages:
            message = aio_pika.Message(body, content_type="application/xml", message_id=message_id)
            await exchange.publish(message, key)


@asynccontextmanager
async def tap(amqp_url: str, exchange: str, *keys: str) -> AsyncIterator[AbstractQueue]:
    """A private queue bound to `exchange` with `keys`, for as long as the block runs."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in keys:
            await queue.bind(exchange, key)
        yield queue


def dead_letter_tap(deployment: Settings, warehouse: str) -> Any:
    """What RabbitMQ dead-letters for `warehouse` (as routed to the deployment's dead queue)."""
    exchange = deployment.wms_queues.dead_letter_exchange.name
    return tap(deployment.amqp_url, exchange, f"{warehouse}.#")


def command_tap(amqp_url: str, warehouse: str) -> Any:
    """A WMS's queue for `warehouse`'s releases and cancels."""
    return tap(amqp_url, WMS_COMMANDS_EXCHANGE, f"{warehouse}.release", f"{warehouse}.cancel")


async def take(
    queue: AbstractQueue, count: int, within: float = 30.0
) -> list[AbstractIncomingMessage]:
    """Get `count` messages from `queue` (acking them); fail after `within` seconds."""
    taken: list[AbstractIncomingMessage] = []
    deadline = time.monotonic() + within
    while len(taken) < count:
        message = await queue.get(fail=False, no_ack=True)
        if message is not None:
            taken.append(message)
            continue
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(taken)} of {count} messages within {within}s")
        await asyncio.sleep(0.1)
    return taken


async def positions(
    url: str, sku: str, token: str | None = None
) -> dict[str, dict[str, Any]] | None:
    """A SKU's positions by warehouse from GET /v1/atp (None while 404 or 503)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(f"{url}/v1/atp/{sku}") as response,
    ):
        if response.status != 200:
            return None
        body = await response.json()
    return {w["warehouse"]: w for w in body["warehouses"]}


async def publish_through_outages(
    amqp_url: str, messages: list[tuple[str, bytes]], every: float = 0.0
) -> int:
    """Publish each message until RabbitMQ confirms it, reconnecting across outages.

    A message whose confirm was lost is sent again (at least once, like a real WMS);
    returns how many attempts failed.
    """
    failures = 0
    connection: aio_pika.abc.AbstractConnection | None = None
    exchange: aio_pika.abc.AbstractExchange | None = None
    try:
        for key, body in messages:
            while True:
                try:
                    if connection is None or exchange is None or connection.is_closed:
                        connection = await aio_pika.connect(amqp_url, timeout=5)
                        channel = await connection.channel(publisher_confirms=True)
                        exchange = await channel.get_exchange(WMS_EVENTS_EXCHANGE)
                    message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
                    await exchange.publish(message, key, timeout=5)
                    break
                except Exception:
                    failures += 1
                    connection, exchange = await _closed(connection), None
                    await asyncio.sleep(0.3)
            await asyncio.sleep(every)
    finally:
        await _closed(connection)
    return failures


async def _closed(connection: aio_pika.abc.AbstractConnection | None) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.close()


async def metric(url: str, sample: str) -> float:
    """The value of one Prometheus sample (`name{labels}`) on a worker's /metrics, or 0."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0


async def pending_commands(url: str, warehouse: str) -> tuple[float, dict[str, int]]:
    """The worker's `distgate_pending_commands` for `warehouse`, and /readyz's list of waits."""
    count = await metric(url, f'distgate_pending_commands{{warehouse="{warehouse}"}}')
    async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as response:
        assert response.status == 200, "a warehouse that waits never makes the worker unready"
        body = await response.json()
    waits = {entry["warehouse"]: entry["count"] for entry in body["pending_commands"]}
    return count, waits

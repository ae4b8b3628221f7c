"""Two deployments on one Kafka and one vhost share nothing but the external names (CONTRACT 8)."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractQueue

from app.dev.deployments import remove_deployment
from app.dev.workers import WorkerProcess, current_env, worker_env
from app.settings import Settings
from tests.support.kafka import topic_names, unique
from tests.support.polling import eventually
from tests.support.shop import call, submit
from tests.support.wms import command_tap, positions, publish_xml, take, unique_warehouse

pytestmark = pytest.mark.brokers

Deploy = Callable[[str], WorkerProcess]


@pytest.fixture
async def deploy(brokers: Settings, tmp_path: Path) -> AsyncIterator[Deploy]:
    """Start a worker of a new deployment (own app id) per call; stop and remove them after."""
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        urls = {"DISTGATE_KAFKA_URL": brokers.kafka_url, "DISTGATE_AMQP_URL": brokers.amqp_url}
        app_id = unique(f"distgate-test-{name}")
        env = worker_env(
            current_env(), tmp_path / name, app_id, DISTGATE_ERP_CONFIRMATION="auto", **urls
        )
        worker = WorkerProcess(name, env, tmp_path / f"{name}.log")
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
        await remove_deployment(brokers.kafka_bootstrap, brokers.amqp_url, worker.settings.app_id)


async def test_both_deployments_see_every_wms_event_and_only_their_own_topics(
    deploy: Deploy, brokers: Settings
) -> None:
    # Given two deployments on one Kafka and one RabbitMQ vhost
    a, b = deploy("a"), deploy("b")
    await asyncio.gather(a.wait_ready(), b.wait_ready())
    # Then each has its own inbox topics and its own WMS queue, its bridge consuming it
    topics = await topic_names(brokers.kafka_bootstrap)
    for worker in (a, b):
        own = worker.settings.topics
        assert {own.stock_inbox.name, own.order_inbox.name, own.wms_commands.name} <= topics
        assert own.dead_letters.name in topics
        queue = worker.settings.wms_queues.events.name
        await eventually(lambda q=queue: _consumers(brokers.amqp_url, q), lambda n: n == 1)
    assert a.settings.topics.stock_inbox.name != b.settings.topics.stock_inbox.name
    # When a WMS publishes one receipt to wms.events, once
    where, sku = unique_warehouse(), unique("SKU")
    receipt = f'<Receipt txn="R-1" warehouse="{where}"><Line sku="{sku}" qty="10"/></Receipt>'
    await publish_xml(brokers.amqp_url, [(f"{where}.receipt", receipt.encode())])
    # Then it reaches both deployments: each shows the 10 units
    for worker in (a, b):
        got = await eventually(lambda w=worker: positions(w.url, sku), _on_hand(where, 10))
        assert got is not None


async def test_an_order_at_one_deployment_is_released_once_and_never_by_a_later_one(
    deploy: Deploy, brokers: Settings
) -> None:
    # Given deployments A and B, stock in a warehouse, and that warehouse's WMS listening
    a, b = deploy("a"), deploy("b")
    await asyncio.gather(a.wait_ready(), b.wait_ready())
    where, sku = unique_warehouse(), unique("SKU")
    receipt = f'<Receipt txn="R-1" warehouse="{where}"><Line sku="{sku}" qty="10"/></Receipt>'
    await publish_xml(brokers.amqp_url, [(f"{where}.receipt", receipt.encode())])
    for worker in (a, b):
        await eventually(lambda w=worker: positions(w.url, sku), _on_hand(where, 10))
    async with command_tap(brokers.amqp_url, where) as wms:
        # When an order of 3 is placed at A (ERP confirms automatically)
        order_id = await submit(a.url, unique("C"), [(sku, 3)])
        # Then the warehouse gets exactly one Release, for that order
        (release,) = await take(wms, 1)
        assert release.routing_key == f"{where}.release"
        assert f'order="{order_id}"'.encode() in release.body
        await _nothing_more(wms, seconds=5)
        # And B does not know the order
        assert (await call(b.url, "GET", f"/v1/orders/{order_id}"))[0] == 404
        # When deployment C starts after A's order
        c = deploy("c")
        await c.wait_ready()
        # Then C sends none of A's commands, and does not know the order either
        await _nothing_more(wms, seconds=5)
        assert (await call(c.url, "GET", f"/v1/orders/{order_id}"))[0] == 404


def _on_hand(where: str, qty: int) -> Callable[[dict[str, dict[str, Any]] | None], bool]:
    return lambda got: got is not None and where in got and got[where]["on_hand"] == qty


async def _nothing_more(queue: AbstractQueue, seconds: float) -> None:
    """Assert that no message arrives on `queue` for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = await queue.get(fail=False, no_ack=True)
        assert message is None, f"unexpected {message.routing_key}: {message.body!r}"
        await asyncio.sleep(0.1)


async def _consumers(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        return int(declared.declaration_result.consumer_count or 0)

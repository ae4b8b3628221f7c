"""Crashes and broker restarts while WMS messages flow: the final stock equals an oracle.

These run on a private Kafka and RabbitMQ (free ports picked per run, own home):
stopping a broker then disturbs nobody else's run, even a concurrent run of these very
tests, and no other worker competes for the bridge's single active consumer. The oracle
is computed here, from the XML the test publishes.
"""

import asyncio
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import aiohttp
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from agents.runtime.failpoints import EXIT_CODE
from app.dev import kafka, rabbitmq, stack
from app.dev.service import Ports
from app.dev.workers import WorkerProcess, current_env, free_port, worker_env
from app.settings import Settings
from protocols.inventory import StockAdjusted, StockReceived
from protocols.topics import StockInboxMessage
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.wms import (
    metric,
    positions,
    publish_through_outages,
    publish_xml,
    unique_warehouse,
)

pytestmark = pytest.mark.brokers

Message = tuple[str, bytes]
_inbox = msgspec.json.Decoder(StockInboxMessage)
DIAGNOSTIC_METRICS = ("distgate_bridge", "distgate_events_applied", "distgate_dead_letters")
DUPLICATES = 'distgate_events_applied_total{outcome="duplicate",table="stock"}'


def quiet(_message: str) -> None:
    """Swallow the dev stack's progress messages."""


@dataclass(frozen=True)
class PrivateStack:
    """A Kafka and a RabbitMQ of this module's own."""

    home: Path
    cache: Path
    ports: Ports
    settings: Settings


def free_ports() -> Ports:
    """Five distinct loopback ports nobody listens on now."""
    ports: set[int] = set()
    while len(ports) < 5:
        ports.add(free_port())
    kafka, controller, amqp, dist, epmd = sorted(ports)
    return Ports(kafka=kafka, kafka_controller=controller, amqp=amqp, erlang_dist=dist, epmd=epmd)


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    """Start the private brokers for this module; stop them after, whatever happened."""
    home, cache = tmp_path_factory.mktemp("stack"), Settings.from_env().cache_dir
    ports = free_ports()
    try:
        assert all(s.running for s in stack.up(home, cache, quiet, ports=ports))
        yield PrivateStack(home, cache, ports, Settings(
            kafka_url=f"kafka://127.0.0.1:{ports.kafka}",
            amqp_url=f"amqp://guest:guest@127.0.0.1:{ports.amqp}/",
        ))  # fmt: skip
    finally:
        stack.down(home, quiet, ports=ports)


@pytest.fixture
def start_worker(
    private_stack: PrivateStack, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start this test's worker on the private brokers (restartable with the same state)."""
    started: list[WorkerProcess] = []
    urls = {
        "DISTGATE_KAFKA_URL": private_stack.settings.kafka_url,
        "DISTGATE_AMQP_URL": private_stack.settings.amqp_url,
    }

    def start(**extra_env: str) -> WorkerProcess:
        env = worker_env(current_env(), tmp_path / "w1", unique("crash"), **urls, **extra_env)
        worker = WorkerProcess("w1", env, tmp_path / "w1.log")
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


class StockStream:
    """Seed receipts, then a stream of receipts and adjusts over a few SKUs, and the oracle."""

    def __init__(self, count: int, skus: int = 4, seed: int = 7) -> None:
        self.where = unique_warehouse()
        self.skus = [unique("CRASH") for _ in range(skus)]
        self.expected = dict.fromkeys(self.skus, 1000)
        rng, txn = random.Random(seed), iter(range(1, 10**6))
        self.seeds = [self._message("Receipt", next(txn), {s: 1000 for s in self.skus})]
        self.messages: list[Message] = []
        for n in range(count):
            picked = rng.sample(self.skus, 2 if n % 2 else 1)
            kind = "Receipt" if n % 2 else "Adjust"
            lines = {s: rng.randint(1, 9) if kind == "Receipt" else rng.randint(-3, 5) or 1
                     for s in picked}  # fmt: skip
            for sku, qty in lines.items():
                self.expected[sku] += qty
            self.messages.append(self._message(kind, next(txn), lines))

    def _message(self, kind: str, txn: int, lines: dict[str, int]) -> Message:
        field = "qty" if kind == "Receipt" else "delta"
        body = "".join(f'<Line sku="{sku}" {field}="{qty}"/>' for sku, qty in lines.items())
        xml = f'<{kind} txn="T-{txn}" warehouse="{self.where}">{body}</{kind}>'
        return f"{self.where}.{kind.lower()}", xml.encode()

    async def on_hand(self, url: str) -> dict[str, int | None]:
        """What the worker's ATP API says each SKU has on hand here."""
        found = [await positions(url, sku) for sku in self.skus]
        return {
            sku: None if p is None or self.where not in p else p[self.where]["on_hand"]
            for sku, p in zip(self.skus, found, strict=True)
        }


async def seeded(stream: StockStream, worker: WorkerProcess, amqp_url: str) -> None:
    """Publish the seed receipts and wait until they show."""
    await publish_xml(amqp_url, stream.seeds)
    seeds = dict.fromkeys(stream.skus, 1000)
    await eventually(lambda: stream.on_hand(worker.url), lambda got: got == seeds, within=60)


async def settled(stream: StockStream, worker: WorkerProcess, amqp_url: str) -> None:
    """The oracle's figures once the queue is drained, and still a moment later."""
    try:
        await eventually(
            lambda: stream.on_hand(worker.url), lambda got: got == stream.expected, within=60
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{await diagnosis(stream, worker, amqp_url)}") from None
    await eventually(lambda: queued(worker), lambda count: count == 0)
    await asyncio.sleep(2)
    assert await stream.on_hand(worker.url) == stream.expected


async def diagnosis(stream: StockStream, worker: WorkerProcess, amqp_url: str) -> str:
    """What to look at when the figures do not add up."""
    async with aiohttp.ClientSession() as http, http.get(f"{worker.url}/metrics") as response:
        text = await response.text()
    counters = [line for line in text.splitlines() if line.startswith(DIAGNOSTIC_METRICS)]
    in_kafka = await bridged(stream, worker)
    return "\n".join(
        [
            f"expected {stream.expected}",
            f"in the stock inbox, once per event id: {in_kafka}",
            f"queued {await queued(worker)}",
            *counters,
        ]
    )


async def bridged(stream: StockStream, worker: WorkerProcess) -> dict[str, int]:
    """on_hand per SKU from the distinct events the bridge put on the worker's stock inbox."""
    deployment = worker.settings
    consumer = AIOKafkaConsumer(
        bootstrap_servers=deployment.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        inbox = deployment.topics.stock_inbox.name
        tps = [TopicPartition(inbox, p) for p in range(deployment.partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        events: dict[str, StockInboxMessage] = {}
        while ends:
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                events |= {e.event_id: e for e in map(_inbox.decode, (r.value for r in batch))}
                if batch and batch[-1].offset + 1 >= ends[tp]:
                    ends.pop(tp, None)
            ends = {tp: end for tp, end in ends.items() if end > 0}
    finally:
        await consumer.stop()
    on_hand = dict.fromkeys(stream.skus, 0)
    for event in events.values():
        if isinstance(event, StockReceived) and event.sku in on_hand:
            on_hand[event.sku] += event.qty
        elif isinstance(event, StockAdjusted) and event.sku in on_hand:
            on_hand[event.sku] += event.delta
    return on_hand


async def queued(worker: WorkerProcess) -> int:
    """Messages waiting in the queue of the worker's bridge."""
    deployment = worker.settings
    connection = await aio_pika.connect(deployment.amqp_url)
    async with connection:
        queue = await (await connection.channel()).get_queue(deployment.wms_queues.events.name)
        return int(queue.declaration_result.message_count or 0)


@pytest.mark.parametrize(
    "failpoint",
    [
        "bridge.before_kafka_send",
        "bridge.after_kafka_ack",
    ],
)
async def test_a_bridge_process_killed_mid_stream_loses_and_doubles_nothing(
    failpoint: str, private_stack: PrivateStack, start_worker: Callable[..., WorkerProcess]
) -> None:
    # Given a worker whose bridge process is armed to die like kill -9 at the 40th message
    amqp_url, stream = private_stack.settings.amqp_url, StockStream(count=120)
    worker = start_worker(DISTGATE_FAILPOINTS=f"{failpoint}=exit@{len(stream.seeds) + 40}")
    await worker.wait_ready()
    first = worker.children()["bridge"]
    await seeded(stream, worker, amqp_url)
    # When the stream arrives, and the bridge process dies at that point
    await publish_xml(amqp_url, stream.messages)
    # Then the supervisor starts it again, unarmed, with the same state and app id
    await eventually(
        lambda: asyncio.sleep(0, worker.children().get("bridge")),
        lambda pid: pid not in (None, first),
        within=60,
    )
    assert f"bridge exited with code {EXIT_CODE}" in worker.log_path.read_text(), worker.log_tail()
    await worker.wait_ready()
    # And every SKU ends as the oracle says: nothing lost, nothing applied twice
    await settled(stream, worker, amqp_url)
    # And the message Kafka had but RabbitMQ redelivered was recognised and skipped
    if failpoint == "bridge.after_kafka_ack":
        assert await metric(worker.url, DUPLICATES) >= 1


async def test_a_rabbitmq_restart_while_messages_flow_loses_and_doubles_nothing(
    private_stack: PrivateStack, start_worker: Callable[..., WorkerProcess]
) -> None:
    # Given a ready worker and a stream flowing in
    amqp_url, stream = private_stack.settings.amqp_url, StockStream(count=100, seed=11)
    worker = start_worker()
    await worker.wait_ready()
    await seeded(stream, worker, amqp_url)
    flowing = asyncio.create_task(publish_through_outages(amqp_url, stream.messages, 0.02))
    # When RabbitMQ stops and starts again mid-stream
    await asyncio.sleep(0.7)
    try:
        await asyncio.to_thread(rabbitmq.down, private_stack.home, private_stack.ports, quiet)
    finally:
        await asyncio.to_thread(rabbitmq.up, private_stack.home, private_stack.ports, quiet)
    assert await flowing > 0, "the publisher never saw RabbitMQ down"
    # Then the worker bridged everything, once
    await settled(stream, worker, amqp_url)


async def test_a_kafka_restart_while_messages_flow_loses_and_doubles_nothing(
    private_stack: PrivateStack, start_worker: Callable[..., WorkerProcess]
) -> None:
    # Given a ready worker and a stream flowing in
    amqp_url, stream = private_stack.settings.amqp_url, StockStream(count=100, seed=13)
    worker = start_worker()
    await worker.wait_ready()
    await seeded(stream, worker, amqp_url)
    flowing = asyncio.create_task(publish_through_outages(amqp_url, stream.messages, 0.02))
    # When Kafka stops and starts again mid-stream
    await asyncio.sleep(0.7)
    home, cache, ports = private_stack.home, private_stack.cache, private_stack.ports
    assert not flowing.done(), "the stream ended before Kafka went down"
    try:
        await asyncio.to_thread(kafka.down, home, ports, quiet)
    finally:
        await asyncio.to_thread(kafka.up, home, cache, ports, quiet)
    await flowing
    # Then the worker bridged and applied everything, once
    await settled(stream, worker, amqp_url)

"""The bridge bench's load: WMS receipts published to RabbitMQ, paced or as a backlog, and probes.

A probe is a receipt of a SKU nobody has seen: `GET /v1/atp/{sku}` answers 404 until the
receipt went AMQP -> bridge -> Kafka -> stock agent -> changelog -> replica, then 200.
"""

import asyncio
import random
import time
from collections.abc import Iterator, Sequence

import aio_pika
import aiohttp
from aio_pika.abc import AbstractExchange

from bench.common.stats import probe_pause
from protocols.amqp import WMS_EVENTS_EXCHANGE, WmsQueues

Message = tuple[str, bytes]
IN_FLIGHT = 500  # publishes awaiting their confirm
PROBE_TIMEOUT = 30.0


def receipt(warehouse: str, txn: str, sku: str, qty: int) -> Message:
    """A one-line Receipt as a WMS publishes it."""
    return receipt_of(warehouse, txn, [(sku, qty)])


def receipt_of(warehouse: str, txn: str, lines: Sequence[tuple[str, int]]) -> Message:
    """A Receipt of (sku, qty) lines as a WMS publishes it."""
    body = "".join(f'<Line sku="{sku}" qty="{qty}"/>' for sku, qty in lines)
    xml = f'<Receipt txn="{txn}" warehouse="{warehouse}">{body}</Receipt>'
    return f"{warehouse}.receipt", xml.encode()


def receipts(warehouse: str, tag: str, count: int, skus: int, seed: int) -> Iterator[Message]:
    """`count` receipts over `skus` SKUs of this run."""
    rng = random.Random(seed)
    for n in range(count):
        yield receipt(warehouse, f"{tag}-{n}", f"BB{tag}-{rng.randrange(skus)}", rng.randint(1, 9))


async def publish_all(amqp_url: str, messages: list[Message], queue: str | None = None) -> None:
    """Publish with confirms, pipelined: to `wms.events`, or straight into `queue`."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = (
            channel.default_exchange
            if queue is not None
            else await channel.get_exchange(WMS_EVENTS_EXCHANGE)
        )
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one(key: str, body: bytes) -> None:
            async with slots:
                await exchange.publish(_persistent(body), queue or key)

        await asyncio.gather(*(one(key, body) for key, body in messages))


def _persistent(body: bytes) -> aio_pika.Message:
    return aio_pika.Message(
        body, content_type="application/xml", delivery_mode=aio_pika.DeliveryMode.PERSISTENT
    )


async def declare_raw_queue(amqp_url: str, name: str) -> None:
    """A queue of the same type and arguments as the bridge's, for the raw baseline."""
    arguments = WmsQueues.for_app(name).events.arguments  # as a deployment's events queue
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(name, durable=True, arguments=arguments)


async def delete_queue(amqp_url: str, name: str) -> None:
    """Remove the baseline's queue."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await (await connection.channel()).queue_delete(name)


async def paced_with_probes(
    amqp_url: str, api: str, messages: list[Message], probes: dict[int, str], rate: float
) -> list[float]:
    """Publish `messages` at `rate`/s; for probe positions, time publish -> visible in ATP."""
    connection = await aio_pika.connect(amqp_url)
    async with connection, aiohttp.ClientSession() as http:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(WMS_EVENTS_EXCHANGE)
        slots = asyncio.Semaphore(IN_FLIGHT)
        tasks: list[asyncio.Task[float | None]] = []
        start = time.perf_counter()
        for n, (key, body) in enumerate(messages):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            sku = probes.get(n)
            tasks.append(asyncio.create_task(_send(exchange, key, body, slots, http, api, sku)))
        results = await asyncio.gather(*tasks)
    return [latency for latency in results if latency is not None]


async def _send(
    exchange: AbstractExchange,
    key: str,
    body: bytes,
    slots: asyncio.Semaphore,
    http: aiohttp.ClientSession,
    api: str,
    probe: str | None,
) -> float | None:
    sent = time.perf_counter()
    try:
        await exchange.publish(_persistent(body), key)
    finally:
        slots.release()
    if probe is None:
        return None
    await until_visible(http, api, probe, sent)
    return time.perf_counter() - sent  # at least PROBE_TIMEOUT when it never showed


async def until_visible(http: aiohttp.ClientSession, api: str, sku: str, since: float) -> bool:
    """Poll `GET /v1/atp/{sku}` until it answers 200 (True) or PROBE_TIMEOUT after `since`."""
    while time.perf_counter() - since < PROBE_TIMEOUT:
        try:
            async with http.get(f"{api}/v1/atp/{sku}") as response:
                await response.read()
                if response.status == 200:
                    return True
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(probe_pause(time.perf_counter() - since))
    return False


async def metric(url: str, sample: str) -> float:
    """One sample of a worker's /metrics (0 until it answers)."""
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
            text = await response.text()
    except aiohttp.ClientError:
        return 0.0
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0

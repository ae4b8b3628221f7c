"""The warehouses' side of the peak: receipts over AMQP, some of them probes of new SKUs.

Every receipt RabbitMQ confirmed is added to `truth` (on hand per SKU and warehouse), the
oracle's record of what the WMSs said. A probe is a receipt of a SKU nobody has seen:
`GET /v1/atp/{sku}` answers 404 until it went AMQP -> bridge -> Kafka -> stock agent ->
changelog -> replica, then 200; the time from publish to that 200 is the path's latency.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aio_pika
import aiohttp
from aio_pika.abc import AbstractExchange
from aiormq.exceptions import AMQPError

from app.sim.wms import REPUBLISH_ATTEMPTS, REPUBLISH_PAUSE_S
from bench.bridge.load import receipt, until_visible
from bench.load.recorder import Recorder
from protocols.amqp import WMS_EVENTS_EXCHANGE

Lines = list[tuple[str, str, int]]  # (sku, warehouse, qty)
SeedReceipt = tuple[str, bytes, Lines]  # routing key, XML body, its lines
IN_FLIGHT = 500


@dataclass
class Warehouses:
    """Publishes receipts for `warehouses` of SKUs `stocked_in` them, and probes."""

    amqp_url: str
    tag: str
    skus: Sequence[str]
    stocked_in: Sequence[Sequence[str]]
    warehouses: Sequence[str]
    api_urls: Sequence[str]
    http: aiohttp.ClientSession
    probe_every: int = 20
    seed: int = 3
    truth: Counter[tuple[str, str]] = field(default_factory=Counter)
    # units of receipts whose confirm never came: RabbitMQ may or may not have them
    uncertain: Counter[tuple[str, str]] = field(default_factory=Counter)
    probes: Recorder = field(
        default_factory=lambda: Recorder("amqp_to_atp", "AMQP publish to visible in ATP")
    )
    publishes: Recorder = field(
        default_factory=lambda: Recorder("amqp_publish", "AMQP publish confirmed")
    )

    async def __aenter__(self) -> "Warehouses":
        self._rng = random.Random(self.seed)
        self._connection = await aio_pika.connect_robust(self.amqp_url)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange: AbstractExchange = await channel.get_exchange(WMS_EVENTS_EXCHANGE)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._connection.close()

    async def send(self, scheduled: float, number: int) -> None:
        """Publish receipt `number`: a probe every `probe_every`, else a skewed known SKU."""
        if number % self.probe_every == 0:
            sku = f"BENCH-{self.tag}-P{number:07d}"
            warehouse = self._rng.choice(self.warehouses)
        else:
            index = self._rng.randrange(len(self.skus))
            sku, warehouse = self.skus[index], self._rng.choice(self.stocked_in[index])
        qty = self._rng.randint(1, 9)
        if not await self.publish(f"{self.tag}-r{number}", sku, warehouse, qty, scheduled):
            return
        if number % self.probe_every == 0:
            await self._probe(sku, scheduled, self.api_urls[number % len(self.api_urls)])

    async def publish(self, txn: str, sku: str, warehouse: str, qty: int, scheduled: float) -> bool:
        """One confirmed receipt, counted in the truth; False (and an error) if not confirmed."""
        key, body = receipt(warehouse, txn, sku, qty)
        return await self._confirmed(key, body, txn, [(sku, warehouse, qty)], scheduled)

    async def publish_receipts(self, receipts: Sequence[SeedReceipt]) -> None:
        """Publish prepared receipts, many in flight; raise unless RabbitMQ confirmed all."""
        slots = asyncio.Semaphore(IN_FLIGHT)
        now = time.perf_counter()

        async def one(number: int, key: str, body: bytes, lines: Lines) -> bool:
            async with slots:
                return await self._confirmed(key, body, f"{self.tag}-s{number}", lines, now)

        results = await asyncio.gather(
            *(one(number, *receipt) for number, receipt in enumerate(receipts))
        )
        if not all(results):
            raise RuntimeError(f"RabbitMQ did not confirm {results.count(False)} seed receipts")

    async def _confirmed(
        self, key: str, body: bytes, message_id: str, lines: Lines, scheduled: float
    ) -> bool:
        message = aio_pika.Message(
            body,
            content_type="application/xml",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
        )
        try:
            await self._publish_until_confirmed(message, key)
        except Exception as exc:  # a nack, a return or a broker away too long: truth unknown
            self.publishes.failed(type(exc).__name__)
            for sku, warehouse, qty in lines:
                self.uncertain[(sku, warehouse)] += qty
            return False
        self.publishes.ok(scheduled)
        for sku, warehouse, qty in lines:
            self.truth[(sku, warehouse)] += qty
        return True

    async def _publish_until_confirmed(self, message: aio_pika.Message, key: str) -> None:
        """Publish, again after a lost connection, as a WMS's outbox does.

        A confirm lost with the connection may mean the first copy arrived: the gateway
        then sees the same warehouse, txn and line twice and applies them once, so what
        RabbitMQ finally confirmed is exactly what the warehouse reported.
        """
        for _attempt in range(REPUBLISH_ATTEMPTS - 1):
            try:
                await self._exchange.publish(message, key, mandatory=True)
                return
            except (AMQPError, ConnectionError, TimeoutError, RuntimeError):
                await asyncio.sleep(REPUBLISH_PAUSE_S)
        await self._exchange.publish(message, key, mandatory=True)

    async def _probe(self, sku: str, scheduled: float, api: str) -> None:
        if await until_visible(self.http, api, sku, scheduled):
            self.probes.ok(scheduled)
        else:
            self.probes.failed("never visible")

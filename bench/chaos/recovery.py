"""Whether the gateway recovered from a fault: every worker ready, the backlog drained.

"Drained" compares with the backlog just before the fault, since under load the queue
and the consumer lag are never quite zero: recovered means back to at most twice that,
or a floor, so a fault that left a growing backlog behind is never called recovered.
"""

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aio_pika
import aiohttp

from app.dev.kafka import metadata_ready
from app.dev.workers import WorkerProcess
from bench.common.procs import counter_total

QUEUE_FLOOR = 200  # messages in the WMS events queue
LAG_FLOOR = 500  # records behind, over every partition the agents consume
POLL_S = 0.5


@dataclass(frozen=True)
class Backlog:
    """Work waiting: messages in the WMS events queue, Kafka records not yet consumed."""

    queued: int
    lag: float

    def drained_to(self, before: "Backlog") -> bool:
        """At most twice the backlog before the fault, or the floors."""
        return self.queued <= max(2 * before.queued, QUEUE_FLOOR) and self.lag <= max(
            2 * before.lag, LAG_FLOOR
        )


async def backlog(
    http: aiohttp.ClientSession, amqp_url: str, queue: str, workers: Sequence[WorkerProcess]
) -> Backlog | None:
    """The backlog now; None while a broker or a worker cannot say."""
    try:
        connection = await aio_pika.connect(amqp_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, passive=True)
            queued = declared.declaration_result.message_count or 0
        lags = [await counter_total(http, w.url, "distgate_consumer_lag") for w in workers]
    except (aiohttp.ClientError, aio_pika.exceptions.AMQPError, OSError, TimeoutError):
        return None
    return Backlog(queued, sum(lags))


async def ready(http: aiohttp.ClientSession, workers: Sequence[WorkerProcess]) -> bool:
    """Every worker answers /readyz with 200."""
    for worker in workers:
        try:
            async with http.get(f"{worker.url}/readyz") as response:
                if response.status != 200:
                    return False
        except (aiohttp.ClientError, TimeoutError):
            return False
    return True


async def wait_recovered(
    bootstrap: str,
    amqp_url: str,
    queue: str,
    workers: Sequence[WorkerProcess],
    before: Backlog,
    within: float,
) -> bool:
    """Poll until Kafka answers, every worker is ready and the backlog drained (else False).

    Kafka is asked itself: a worker stays ready through a Kafka outage (it still serves
    ATP from its mirror), so readiness alone would call a broker crash recovered.
    """
    deadline = time.monotonic() + within
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(asyncio.TimeoutError):
                if await metadata_ready(bootstrap) and await ready(http, workers):
                    now = await backlog(http, amqp_url, queue, workers)
                    if now is not None and now.drained_to(before):
                        return True
            await asyncio.sleep(POLL_S)
    return False

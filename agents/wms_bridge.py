"""The inbound WMS bridge: RabbitMQ XML in, canonical Kafka records out, nothing lost.

A session is one producer, one connection and one `agents.wms_pipeline.Pipeline`:
records are sent in queue order, pipelined, and each delivery acked only once Kafka
acknowledged all of its records. When Kafka fails, the session ends: closing the
channel hands every unacked delivery back to RabbitMQ, which redelivers it, and the
event ids make the re-send apply once. Then a new session starts, after a pause.
"""

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aio_pika
from aiokafka import AIOKafkaProducer
from mode import Service

from agents.runtime.failpoints import Failpoints
from agents.runtime.metrics import AgentMetrics
from agents.wms_pipeline import DRAIN_SECONDS, Pipeline
from protocols.amqp import QueueSpec
from protocols.topics import Topics

log = logging.getLogger(__name__)

# Deliveries in flight; a crash redelivers at most these (the tables dedupe them exactly).
PREFETCH = 512
RETRY_SECONDS = (0.5, 5.0)  # first and longest pause before resuming after a failure


class WmsBridge(Service):
    """Consumes the deployment's WMS events queue for the worker's life, resuming after failures."""

    def __init__(
        self,
        kafka_options: Mapping[str, Any],
        amqp_url: str,
        queue: QueueSpec,
        topics: Topics,
        metrics: AgentMetrics,
        failpoints: Failpoints,
    ) -> None:
        super().__init__()
        self.kafka_options = kafka_options  # bootstrap servers, security protocol, SASL, TLS
        self.amqp_url = amqp_url
        self.queue = queue
        self.topics = topics
        self.metrics = metrics
        self.failpoints = failpoints

    async def on_start(self) -> None:
        """Bridge in the background; a broker outage delays it, never stops the worker."""
        self.add_future(self._run())

    async def _run(self) -> None:
        pause = RETRY_SECONDS[0]
        while not self.should_stop:
            started = asyncio.get_running_loop().time()
            try:
                await self._session()
                why: object = "the consumer ended"
            except Exception as exc:
                why = exc
            self.metrics.bridge_interruptions.inc()
            if asyncio.get_running_loop().time() - started > 60:
                pause = RETRY_SECONDS[0]  # it ran a good while: a new failure, not a loop
            log.warning("WMS bridge interrupted (%r); resuming in %.1fs", why, pause)
            await self.sleep(pause)
            pause = min(pause * 2, RETRY_SECONDS[1])

    async def _session(self) -> None:
        """One producer and one connection, until a failure or the worker stops."""
        producer = AIOKafkaProducer(
            **self.kafka_options,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
        )
        await producer.start()
        # One thread: large bodies are decoded one at a time, in queue order, off the loop.
        parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wms-parser")
        try:
            connection = await aio_pika.connect_robust(
                self.amqp_url, timeout=30, reconnect_interval=1
            )
            async with connection:
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=PREFETCH)
                queue = await channel.declare_queue(
                    self.queue.name, durable=True, arguments=self.queue.arguments
                )
                await Pipeline(producer, self.topics, self.metrics, self.failpoints, parser).run(
                    queue
                )
        finally:
            parser.shutdown(wait=False, cancel_futures=True)
            await asyncio.wait_for(producer.stop(), DRAIN_SECONDS)

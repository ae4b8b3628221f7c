"""The long-running pieces a worker starts beside the Faust app, as mode Services."""

import logging

import aio_pika
from aiohttp import web
from mode import Service

from app.settings import Settings
from app.topology import declare_amqp_topology, declare_kafka_topics
from protocols.topics import TopicSpec

log = logging.getLogger(__name__)


class Topology(Service):
    """Declares Kafka topics and the AMQP topology before anything consumes."""

    def __init__(self, settings: Settings, topics: tuple[TopicSpec, ...]) -> None:
        super().__init__()
        self.settings = settings
        self.topics = topics

    async def on_start(self) -> None:
        """Declare everything; fail the start with a clear message when a broker refuses."""
        await declare_kafka_topics(self.settings, self.topics)
        connection = await aio_pika.connect(self.settings.amqp_url, timeout=30)
        async with connection:
            await declare_amqp_topology(await connection.channel())


class HttpServer(Service):
    """Serves the aiohttp API for the lifetime of the worker."""

    def __init__(self, api: web.Application, host: str, port: int) -> None:
        super().__init__()
        self.runner = web.AppRunner(api, access_log=None)
        self.host = host
        self.port = port

    async def on_start(self) -> None:
        """Bind the listening socket."""
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port).start()
        log.info("HTTP API on http://%s:%s", self.host, self.port)

    async def on_stop(self) -> None:
        """Stop accepting, finish in-flight requests, close."""
        await self.runner.cleanup()

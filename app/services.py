"""The API process's HTTP server, as a mode Service."""

import logging

from aiohttp import web
from mode import Service

log = logging.getLogger(__name__)


class HttpServer(Service):
    """Serves the aiohttp API for the lifetime of the process."""

    def __init__(self, api: web.Application, host: str, port: int, idle_timeout_s: float) -> None:
        super().__init__()
        # An idle connection, or one whose request headers have not all arrived, is closed
        # after `idle_timeout_s`: a client that trickles headers cannot hold it for an hour.
        self.runner = web.AppRunner(api, access_log=None, keepalive_timeout=idle_timeout_s)
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

"""The API process's HTTP server, as a mode Service."""

import logging

from aiohttp import web
from mode import Service

log = logging.getLogger(__name__)


class HttpServer(Service):
    """Serves the aiohttp API for the lifetime of the process."""

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

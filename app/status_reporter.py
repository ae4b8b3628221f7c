"""A child process's side of the status file: readiness, assignment, counters."""

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from mode import Service
from prometheus_client import CollectorRegistry

from app.agents_status import REPORT_EVERY, AgentsStatus, snapshot, write_status
from app.readiness import Readiness

log = logging.getLogger(__name__)


class StatusReporter(Service):
    """Writes this process's status file until it stops, then removes it."""

    def __init__(
        self,
        path: Path,
        readiness: Readiness,
        registry: CollectorRegistry,
        assigned: Callable[[], list[str]] = list,
        refresh: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self.path = path
        self.readiness = readiness
        self.registry = registry
        self.assigned = assigned
        self.refresh = refresh  # brings gauges up to date before each report

    async def on_start(self) -> None:
        """Report at once (a restarted process replaces its predecessor's file), then keep on."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write()
        self.add_future(self._keep_reporting())

    async def on_stop(self) -> None:
        """A stopped process reports nothing: the API then counts it as not ready."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _keep_reporting(self) -> None:
        while True:
            await self.sleep(REPORT_EVERY)  # returns at once when the service stops
            if self.should_stop:
                return
            await self._refresh()
            try:
                self._write()
            except OSError as exc:  # a full disk must not stop the agents; readiness will tell
                log.warning("cannot write %s: %r", self.path, exc)

    async def _refresh(self) -> None:
        """Bring the gauges up to date; a failure costs one report's figures, never the report."""
        if self.refresh is None or not self.readiness.started:
            return
        try:
            await asyncio.wait_for(self.refresh(), REPORT_EVERY)
        except Exception as exc:
            log.warning("gauges not refreshed: %r", exc)

    def _write(self) -> None:
        status = AgentsStatus(
            pid=os.getpid(),
            at=time.time(),
            progress=self.readiness.report(),
            assigned=self.assigned() if self.readiness.started else [],
            metrics=snapshot(self.registry),
        )
        write_status(self.path, status)

"""CPU use of the server and of the load generator itself over a load run's window."""

import asyncio
import os
import time

from bench.common.procs import cpu_seconds, runqueue_wait_seconds

Sample = tuple[float, float, float, float, float]


def _sample(server_pid: int) -> Sample:
    """(wall, server CPU, server wait for a CPU, own CPU, own wait for a CPU), in seconds."""
    own = os.getpid()
    return (
        time.perf_counter(),
        cpu_seconds(server_pid),
        runqueue_wait_seconds(server_pid),
        cpu_seconds(own),
        runqueue_wait_seconds(own),
    )


class Usage:
    """Samples CPU use at the window's start and end (on the load generator's clock)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.start: Sample | None = None
        self.end: Sample | None = None

    async def watch(self, window: tuple[float, float]) -> None:
        """Sample at the window's edges (late if this process itself waits for a CPU)."""
        await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))
        self.start = _sample(self.server_pid)
        await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
        self.end = _sample(self.server_pid)

    def shares(self, requests: int) -> dict[str, float]:
        """Shares of the window each side ran or waited, and server CPU per request."""
        if self.start is None or self.end is None:
            return {}
        wall, server, server_wait, own, own_wait = (
            b - a for a, b in zip(self.start, self.end, strict=True)
        )
        return {
            "server_cpu_share": server / wall,
            "server_runqueue_wait_share": server_wait / wall,
            "server_cpu_us_per_request": 1e6 * server / max(1, requests),
            "client_cpu_share": own / wall,
            "client_runqueue_wait_share": own_wait / wall,
        }

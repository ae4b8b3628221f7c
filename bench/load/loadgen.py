"""HTTP load generator: keep-alive aiohttp client, closed loop (max rate) or open loop (fixed rate).

Run as `python -m bench.load.loadgen PLAN_JSON`; prints one JSON line of figures.
Open-loop latency counts from each request's scheduled time, so a slow server's queueing
is measured instead of hidden (no coordinated omission).
"""

import asyncio
import sys
import time
from pathlib import Path
from typing import Any, Literal

import aiohttp
import msgspec

from bench.common.stats import latency_summary
from bench.common.usage import Usage
from bench.common.workload import skewed_indices

MAX_IN_FLIGHT = 20_000


class Plan(msgspec.Struct, frozen=True):
    """One load run against one target."""

    url: str
    skus_file: str
    mode: Literal["closed", "open"]
    connections: int
    warmup_s: float
    duration_s: float
    rate: float = 0.0
    seed: int = 1
    server_pid: int = 0  # whose CPU time the window's figures are divided by
    kind: Literal["get", "check"] = "get"  # GET /v1/atp/{sku} or POST /v1/atp/check


class Tally:
    """Requests of the measurement window: latencies of 200s, and the failures."""

    def __init__(self, window_start: float, window_end: float) -> None:
        self.window = (window_start, window_end)
        self.latencies: list[float] = []
        self.errors = 0
        self.dropped = 0
        self.finished_in_window = 0

    def record(self, scheduled: float, finished: float, ok: bool) -> None:
        """Count answers inside the window; keep the latency of those scheduled inside it."""
        if self.window[0] <= finished < self.window[1]:
            self.finished_in_window += 1
        if self.window[0] <= scheduled < self.window[1]:
            if ok:
                self.latencies.append(finished - scheduled)
            else:
                self.errors += 1


Request = tuple[str, bytes | None]  # (URL, POST body or None for a GET)


async def _request(session: aiohttp.ClientSession, request: Request) -> bool:
    """GET or POST one request and read the body; True for a 200."""
    url, body = request
    headers = {"Content-Type": "application/json"}
    try:
        if body is None:
            async with session.get(url) as response:
                await response.read()
                return response.status == 200
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def _closed_worker(
    session: aiohttp.ClientSession, urls: list[Request], start: int, tally: Tally
) -> None:
    """Send the next request as soon as the previous one answered, until the window ends."""
    index = start
    while (now := time.perf_counter()) < tally.window[1]:
        ok = await _request(session, urls[index % len(urls)])
        tally.record(now, time.perf_counter(), ok)
        index += 7


async def _closed(
    session: aiohttp.ClientSession, urls: list[Request], plan: Plan, tally: Tally
) -> None:
    """N connections, each with one request outstanding at a time."""
    step = len(urls) // plan.connections
    await asyncio.gather(
        *(_closed_worker(session, urls, i * step, tally) for i in range(plan.connections))
    )


async def _open(
    session: aiohttp.ClientSession, urls: list[Request], plan: Plan, tally: Tally
) -> None:
    """Send at the planned rate whatever the answers; wait for the stragglers at the end."""
    start, interval = time.perf_counter(), 1.0 / plan.rate
    in_flight: set[asyncio.Task[None]] = set()
    number = 0
    while (scheduled := start + number * interval) < tally.window[1]:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= MAX_IN_FLIGHT:
            tally.dropped += 1
        else:
            task = asyncio.create_task(_timed(session, urls[number % len(urls)], scheduled, tally))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        number += 1
    if in_flight:
        await asyncio.wait(in_flight, timeout=30)


async def _timed(
    session: aiohttp.ClientSession, request: Request, scheduled: float, tally: Tally
) -> None:
    ok = await _request(session, request)
    tally.record(scheduled, time.perf_counter(), ok)


async def run(plan: Plan, skus: list[str]) -> dict[str, Any]:
    """Run the plan and return throughput, latency percentiles and the client's CPU use."""
    urls = [_planned(plan, skus[i]) for i in skewed_indices(len(skus), 50_000, plan.seed)]
    connector = aiohttp.TCPConnector(limit=plan.connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter() + plan.warmup_s
        tally = Tally(began, began + plan.duration_s)
        usage = Usage(plan.server_pid)
        watch = asyncio.create_task(usage.watch(tally.window))
        await (_closed if plan.mode == "closed" else _open)(session, urls, plan, tally)
        await watch
    return {
        "mode": plan.mode,
        "planned_rate": plan.rate,
        "requests": len(tally.latencies),
        "errors": tally.errors,
        "dropped": tally.dropped,
        **usage.shares(tally.finished_in_window),
        "rps": len(tally.latencies) / plan.duration_s,
        "latency_ms": latency_summary(tally.latencies),
    }


def _planned(plan: Plan, sku: str) -> Request:
    """The request of the plan's kind for one SKU."""
    if plan.kind == "get":
        return f"{plan.url}/v1/atp/{sku}", None
    body = msgspec.json.encode({"lines": [{"sku": sku, "qty": 2}]})
    return f"{plan.url}/v1/atp/check", body


def main(argv: list[str]) -> int:
    """Entry point: one plan in, one JSON line out."""
    plan = msgspec.json.decode(argv[0], type=Plan)
    skus = msgspec.json.decode(Path(plan.skus_file).read_bytes(), type=list[str])
    figures = asyncio.run(run(plan, skus))
    sys.stdout.write(msgspec.json.encode(figures).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

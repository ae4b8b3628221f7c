"""Phase 1 set-up: a worker loaded with the catalogue, its answers, the baseline, the inflow."""

import asyncio
import subprocess
import time

import aiohttp
import msgspec

from app.dev.process import port_open, wait_until
from app.dev.workers import WorkerProcess, free_port
from bench.common.deployment import declare_deployment
from bench.common.kafka_io import bulk_producer, produce_all, send_all
from bench.common.params import Context, Params
from bench.common.workload import Catalogue, expected_qty, initial_receipts, random_receipts

FETCH_CONCURRENCY = 32


class _Answer(msgspec.Struct):
    """The part of an ATP answer the set-up checks."""

    atp: int


async def loaded_worker(ctx: Context, params: Params, cat: Catalogue) -> WorkerProcess:
    """A ready worker (a deployment of its own) that received the catalogue."""
    app_id = ctx.procs.new_app_id("atp")
    inbox = (await declare_deployment(app_id)).topics.stock_inbox.name
    worker = ctx.procs.worker("atp-worker", app_id, ctx.server_cpus)
    sent = await produce_all(ctx.bootstrap, inbox, initial_receipts(cat))
    ctx.say(
        f"atp: {sent:,} receipts produced for {len(cat.skus):,} SKUs ({cat.positions:,} positions)"
    )
    await worker.wait_ready()
    return worker


async def answer_bodies(url: str, cat: Catalogue, within: float) -> dict[str, bytes]:
    """Every SKU's ATP answer bytes, once each shows the whole initial load."""
    expected = {sku: expected_qty(i) * len(cat.stocked_in[i]) for i, sku in enumerate(cat.skus)}
    bodies: dict[str, bytes] = {}
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=FETCH_CONCURRENCY)
    ) as http:
        while len(bodies) < len(expected):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"only {len(bodies)}/{len(expected)} SKUs loaded after {within}s"
                )
            missing = [sku for sku in expected if sku not in bodies]
            found = await asyncio.gather(*(_body(http, url, sku) for sku in missing))
            bodies.update(
                (sku, body)
                for sku, body in zip(missing, found, strict=True)
                if body is not None and msgspec.json.decode(body, type=_Answer).atp == expected[sku]
            )
            await asyncio.sleep(0.5 if len(bodies) < len(expected) else 0)
    return bodies


async def _body(http: aiohttp.ClientSession, url: str, sku: str) -> bytes | None:
    """The answer bytes of one SKU, None unless 200."""
    async with http.get(f"{url}/v1/atp/{sku}") as response:
        return await response.read() if response.status == 200 else None


def start_baseline(ctx: Context, bodies: dict[str, bytes]) -> tuple[subprocess.Popen[bytes], str]:
    """The bare aiohttp server over the same bytes, on the server's CPU; (process, URL)."""
    bodies_file = ctx.procs.workdir / "atp-bodies.msgpack"
    bodies_file.write_bytes(msgspec.msgpack.encode(bodies))
    port = free_port()
    child = ctx.procs.module(
        "bench.load.baseline_server", [str(port), str(bodies_file)], ctx.server_cpus, "baseline.log"
    )
    if not wait_until(lambda: port_open("127.0.0.1", port), 30.0, pid=child.pid):
        raise RuntimeError("the baseline server did not start; see baseline.log")
    return child, f"http://127.0.0.1:{port}"


async def inflow(
    bootstrap: str, inbox: str, cat: Catalogue, rate: int, seconds: float, run: int
) -> int:
    """Produce `rate` receipts/s on skewed SKUs for `seconds` (bounded); return how many."""
    count = int(rate * seconds)
    messages = list(random_receipts(cat, count, seed=1000 + run, prefix=f"inflow{run}"))
    producer = bulk_producer(bootstrap)
    await producer.start()
    try:
        start, sent, tick = time.perf_counter(), 0, 0.01
        while sent < count:
            due = min(count, int((time.perf_counter() - start) * rate) + 1)
            sent += await send_all(producer, inbox, messages[sent:due])
            await asyncio.sleep(tick)
        return sent
    finally:
        await producer.stop()

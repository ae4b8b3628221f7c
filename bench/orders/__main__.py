"""Orders per second from POST to RESERVED, with latency percentiles: `python -m bench.orders`.

One worker on the dev stack; stock for every SKU large enough that no order is refused;
web orders of 1-3 lines over Zipf-skewed SKUs (hot SKUs see most of the contention);
each order is POSTed, then long-polled until RESERVED. Throughput is completed orders
over wall time at a fixed concurrency; latency is from sending the POST to seeing
RESERVED. CPU per order is each of the worker's processes' user + system time over the
measured orders (from /proc), divided by them; `bench` is the load generator's own.
Usage: `python -m bench.orders [--orders N] [--concurrency C] [--skus S]`.
"""

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from app.dev import stack
from app.dev.deployments import remove_deployment
from app.dev.workers import WorkerProcess, current_env, worker_env
from app.settings import Settings
from bench.common.kafka_io import produce_all
from bench.common.procs import pids_of
from bench.common.stats import latency_summary, zipf_exponent_for, zipf_weights
from bench.common.workload import received
from bench.orders import cpu

WAREHOUSE = "DC-EAST"


def _order(rng: random.Random, skus: Sequence[str], weights: Sequence[float]) -> dict[str, object]:
    """A web order: 1-3 distinct lines of 1-3 units."""
    chosen = list(dict.fromkeys(rng.choices(skus, weights, k=rng.randint(1, 3))))
    lines = [{"line_no": i + 1, "sku": s, "qty": rng.randint(1, 3)} for i, s in enumerate(chosen)]
    return {"customer_id": f"C-{rng.randint(1, 500)}", "channel": "web", "lines": lines}


async def _one(
    http: aiohttp.ClientSession, url: str, body: dict[str, object]
) -> tuple[float, float]:
    """POST then long-poll; (seconds to 202, seconds to RESERVED)."""
    started = time.perf_counter()
    async with http.post(f"{url}/v1/orders", json=body) as response:
        answer = await response.json()
        if response.status != 202:
            raise RuntimeError(f"POST answered {response.status}: {answer}")
    accepted = time.perf_counter()
    path = f"{url}/v1/orders/{answer['order_id']}?wait_for=RESERVED&timeout=30"
    async with http.get(path) as response:
        order = await response.json()
    if order["status"] != "RESERVED":
        raise RuntimeError(f"order {answer['order_id']} ended {order['status']}")
    return accepted - started, time.perf_counter() - started


async def _drive(url: str, bodies: list[dict[str, object]], concurrency: int) -> dict[str, object]:
    """Run every order with at most `concurrency` in flight; summarise."""
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def bounded(body: dict[str, object]) -> tuple[float, float]:
            async with gate:
                return await _one(http, url, body)

        started = time.perf_counter()
        results = await asyncio.gather(*(bounded(body) for body in bodies))
        elapsed = time.perf_counter() - started
    return {
        "orders": len(bodies),
        "concurrency": concurrency,
        "orders_per_second": round(len(bodies) / elapsed, 1),
        "post_to_202_ms": latency_summary([a for a, _ in results]),
        "post_to_reserved_ms": latency_summary([r for _, r in results]),
    }


async def _worker(settings: Settings, home: Path) -> WorkerProcess:
    """A worker of a fresh app id (a deployment of its own) on the bench's brokers."""
    app_id = f"distgate-bench-orders-{uuid.uuid4().hex[:6]}"
    brokers = {"DISTGATE_KAFKA_URL": settings.kafka_url, "DISTGATE_AMQP_URL": settings.amqp_url}
    env = worker_env(current_env(), home / "data", app_id, DISTGATE_LOG_LEVEL="warn", **brokers)
    worker = WorkerProcess("bench-orders", env, home / "worker.log")
    worker.start()
    await worker.wait_ready()
    return worker


async def run(orders: int, concurrency: int, sku_count: int, seed: int) -> dict[str, object]:
    """Seed stock, warm up, measure; always stop the worker."""
    settings = Settings.from_env()
    ports = stack.ports_for(settings.kafka_bootstrap, settings.amqp_url)
    await asyncio.to_thread(
        stack.up, settings.dev_home, settings.cache_dir, lambda _m: None, ports=ports
    )
    home = Path(tempfile.mkdtemp(prefix="distgate-bench-orders-"))
    worker = await _worker(settings, home)
    try:
        tag = uuid.uuid4().hex[:6]
        skus = [f"BO-{tag}-{i}" for i in range(sku_count)]
        stock = (received(f"bo-{tag}-{i}", sku, WAREHOUSE, 1_000_000) for i, sku in enumerate(skus))
        await produce_all(settings.kafka_bootstrap, worker.settings.topics.stock_inbox.name, stock)
        weights = zipf_weights(sku_count, zipf_exponent_for(sku_count))
        rng = random.Random(seed)
        await _drive(worker.url, [_order(rng, skus, weights) for _ in range(50)], concurrency)
        bodies = [_order(rng, skus, weights) for _ in range(orders)]
        pids = pids_of(worker)
        before = cpu.snapshot(pids)
        summary = await _drive(worker.url, bodies, concurrency)
        return {**summary, "cpu_us_per_order": cpu.per_order(before, cpu.snapshot(pids), orders)}
    finally:
        worker.terminate()
        shutil.rmtree(home, ignore_errors=True)
        await remove_deployment(settings.kafka_bootstrap, settings.amqp_url, worker.settings.app_id)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the summary as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.orders", description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    summary = asyncio.run(run(args.orders, args.concurrency, args.skus, args.seed))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

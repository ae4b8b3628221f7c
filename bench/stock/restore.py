"""Phase 3: a worker restoring a large stock changelog: time to ready, memory, spot checks."""

import asyncio
import importlib
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import msgspec

from app.dev.workers import WorkerProcess
from bench.common.kafka_io import create_topic, produce_all
from bench.common.params import Context, Params
from bench.common.procs import memory_bytes, pids_of
from bench.common.workload import KeyedValue, restored_value, sku_name
from tables.keys import seen_key
from tables.stock.table import encode_stock

SETTLE_S = 2.0


class _Answer(msgspec.Struct):
    """The part of an ATP answer the spot check compares."""

    atp: int


def stock_changelog_name(app_id: str) -> str:
    """The stock table's changelog topic, as the product names it."""
    # The product renamed changelog_spec to stock_changelog; accept either while both exist.
    module = importlib.import_module("tables.stock.table")
    spec = getattr(module, "stock_changelog", None) or module.changelog_spec
    return str(spec(app_id).name)


def changelog_values(tag: str, count: int, event_ids: int) -> Iterator[KeyedValue]:
    """`count` SKUs with three positions each and `event_ids` applied-id rows, as the table
    writes them."""
    for index in range(count):
        sku = sku_name(tag, index)
        yield sku.encode(), encode_stock(restored_value(sku, index))
        for number in range(event_ids):
            yield seen_key(sku, f"wms-{sku}-{number:08d}"), b"20000"


async def measure_restore(ctx: Context, params: Params) -> dict[str, Any]:
    """Write the changelog directly, then start a worker on an empty (and a kept) data dir."""
    app_id = ctx.procs.new_app_id("restore")
    topic = stock_changelog_name(app_id)
    await create_topic(ctx.bootstrap, topic, ctx.partitions, compacted=True)
    tag = f"{ctx.tag}r"
    started = time.perf_counter()
    values = changelog_values(tag, params.restore_skus, params.restore_event_ids)
    written = await produce_all(ctx.bootstrap, topic, values)
    produce_s = time.perf_counter() - started
    skus = params.restore_skus
    ctx.say(
        f"restore: {skus:,} SKUs ({3 * skus:,} positions, {written:,} records) in {produce_s:.1f} s"
    )
    result: dict[str, Any] = {
        "skus": skus,
        "positions": 3 * skus,
        "changelog_records": written,
        "seen_ids_per_sku": params.restore_event_ids,
        "value_bytes": len(changelog_values(tag, 1, params.restore_event_ids).__next__()[1]),
        "changelog_produce_s": produce_s,
    }
    data_dir = ctx.procs.workdir / "restore-data"
    for run in ("cold", "warm") if params.warm_restart else ("cold",):
        worker = ctx.procs.worker(f"restore-{run}", app_id, ctx.server_cpus, data_dir)
        try:
            result[run] = await _until_ready(worker, params.restore_timeout_s)
            result[run]["spot_checks"] = await _spot_check(worker.url, tag, params.restore_skus)
            ctx.say(_line(run, result[run]))
        finally:
            worker.terminate()
    worker.wipe_state()
    return result


async def _until_ready(worker: WorkerProcess, within: float) -> dict[str, Any]:
    """Seconds from spawn to /readyz 200, when each readiness source turned ready, and RSS."""
    started = time.monotonic()
    sources: dict[str, float] = {}
    peak_rss = 0
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < within:
            if worker.process is None or worker.process.poll() is not None:
                raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail(20)}")
            peak_rss = max(peak_rss, _rss(worker, "VmRSS"))
            status, report = await _readyz(http, worker.url)
            elapsed = time.monotonic() - started
            for table in report.get("tables", []):
                if table["ready"]:
                    sources.setdefault(table["name"], elapsed)
            if status == 200:
                await asyncio.sleep(SETTLE_S)
                return {
                    "ready_s": elapsed,
                    "source_ready_s": sources,
                    "rss_bytes_after_ready": _rss(worker, "VmRSS"),
                    "peak_rss_bytes": max(peak_rss, _rss(worker, "VmHWM")),
                }
            await asyncio.sleep(0.25)
    raise TimeoutError(f"{worker.name} not ready after {within}s:\n{worker.log_tail()}")


async def _readyz(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of /readyz; (0, {}) while the HTTP server is not up."""
    try:
        async with http.get(f"{url}/readyz") as response:
            body: dict[str, Any] = msgspec.json.decode(await response.read())
            return response.status, body
    except (aiohttp.ClientError, msgspec.DecodeError):
        return 0, {}


async def _spot_check(url: str, tag: str, count: int) -> dict[str, bool]:
    """GET a handful of SKUs; True where the ATP matches what the changelog holds."""
    picks = sorted({0, 1, count // 3, count // 2, count - 1})
    checks: dict[str, bool] = {}
    async with aiohttp.ClientSession() as http:
        for index in picks:
            sku = sku_name(tag, index)
            async with http.get(f"{url}/v1/atp/{sku}") as response:
                body = await response.read()
                expected = sum(p.atp for p in restored_value(sku, index).positions)
                ok = (
                    response.status == 200
                    and msgspec.json.decode(body, type=_Answer).atp == expected
                )
                checks[sku] = ok
    return checks


def _line(run: str, figures: dict[str, Any]) -> str:
    """One progress line of the restore table."""
    checks = figures["spot_checks"]
    return (
        f"  restore {run:<5} ready in {figures['ready_s']:6.1f} s  "
        f"sources {figures['source_ready_s']}"
        f"  RSS {figures['rss_bytes_after_ready'] / 2**20:,.0f} MiB"
        f"  peak {figures['peak_rss_bytes'] / 2**20:,.0f} MiB"
        f"  spot checks {sum(checks.values())}/{len(checks)} ok"
    )


def _rss(worker: WorkerProcess, field: str) -> int:
    """A memory figure summed over the worker's processes (supervisor, agents, API)."""
    return sum(memory_bytes(pid).get(field, 0) for pid in pids_of(worker).values())

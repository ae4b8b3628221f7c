"""A bench session: the dev brokers up, topics declared, and everything started cleaned up."""

import asyncio
import contextlib
import ipaddress
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from app.dev import stack
from app.dev.deployments import remove_deployment
from app.settings import Settings
from bench.common.kafka_io import offsets, trim
from bench.common.params import Context, split_cpus
from bench.common.procs import Processes
from protocols.topics import INVENTORY_EVENTS


class NotLoopback(Exception):
    """The bench writes test data into Kafka: it only ever targets a broker on this machine."""


def _require_loopback(bootstrap: str) -> None:
    """Refuse any broker that is not on a loopback address."""
    for server in bootstrap.split(","):
        host = server.rsplit(":", 1)[0].strip("[]")
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise NotLoopback(f"refusing to load {server}: the bench targets loopback brokers only")


@contextlib.asynccontextmanager
async def bench_session(
    pin: bool, trim_shared: bool, logs_to: Path, say: Callable[[str], None]
) -> AsyncIterator[Context]:
    """Yield the run's Context; on the way out stop every process and remove what it wrote."""
    settings = Settings.from_env()
    _require_loopback(settings.kafka_bootstrap)
    ports = stack.ports_for(settings.kafka_bootstrap, settings.amqp_url)
    await asyncio.to_thread(stack.up, settings.dev_home, settings.cache_dir, say, ports=ports)
    workdir = Path(tempfile.mkdtemp(prefix="distgate-bench-"))
    server_cpus, load_cpus = split_cpus(pin)
    brokers = {"DISTGATE_KAFKA_URL": settings.kafka_url, "DISTGATE_AMQP_URL": settings.amqp_url}
    procs = Processes(workdir, brokers)
    ctx = Context(settings.kafka_bootstrap, settings.partitions, procs, server_cpus, load_cpus, say)
    try:
        yield ctx
    finally:
        procs.stop_all()
        await _clean(ctx, settings.amqp_url, trim_shared)
        _keep_logs(workdir, logs_to)
        shutil.rmtree(workdir, ignore_errors=True)


def _keep_logs(workdir: Path, logs_to: Path) -> None:
    """Copy the processes' logs next to the report before the work dir goes."""
    logs_to.mkdir(parents=True, exist_ok=True)
    for log in workdir.glob("*.log"):
        shutil.copy(log, logs_to / log.name)


async def _clean(ctx: Context, amqp_url: str, trim_shared: bool) -> None:
    """Remove the run's deployments; trim the shared stock events of the bench's data."""
    for app_id in ctx.procs.app_ids:
        await remove_deployment(ctx.bootstrap, amqp_url, app_id)
    ctx.say(f"removed the bench's {len(ctx.procs.app_ids)} deployments (topics and queues)")
    if not trim_shared:
        return
    topic = INVENTORY_EVENTS.name
    _, end = await offsets(ctx.bootstrap, topic, ctx.partitions)
    removed = await trim(ctx.bootstrap, end)
    ctx.say(f"trimmed {removed:,} records from {topic} (ERP's consumers would replay them)")

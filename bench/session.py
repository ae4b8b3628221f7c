"""A bench session: the dev brokers up, topics declared, and everything started cleaned up."""

import asyncio
import contextlib
import ipaddress
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from app.dev import stack
from app.settings import Settings
from app.topology import declare_kafka_topics
from bench.kafka_io import delete_topics_with_prefix, offsets, trim
from bench.params import Context, split_cpus
from bench.procs import Processes
from protocols.topics import Topics

SHARED_TOPICS = (Topics.STOCK_INBOX.name, Topics.INVENTORY_EVENTS.name)


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
    await declare_kafka_topics(settings, Topics.all())
    workdir = Path(tempfile.mkdtemp(prefix="distgate-bench-"))
    server_cpus, load_cpus = split_cpus(pin)
    brokers = {"DISTGATE_KAFKA_URL": settings.kafka_url, "DISTGATE_AMQP_URL": settings.amqp_url}
    procs = Processes(workdir, brokers)
    ctx = Context(settings.kafka_bootstrap, settings.partitions, procs, server_cpus, load_cpus, say)
    try:
        yield ctx
    finally:
        procs.stop_all()
        await _clean_kafka(ctx, trim_shared)
        _keep_logs(workdir, logs_to)
        shutil.rmtree(workdir, ignore_errors=True)


def _keep_logs(workdir: Path, logs_to: Path) -> None:
    """Copy the processes' logs next to the report before the work dir goes."""
    logs_to.mkdir(parents=True, exist_ok=True)
    for log in workdir.glob("*.log"):
        shutil.copy(log, logs_to / log.name)


async def _clean_kafka(ctx: Context, trim_shared: bool) -> None:
    """Delete the run's own topics; trim the shared ones so fresh consumers skip the bench data."""
    deleted = await delete_topics_with_prefix(ctx.bootstrap, ctx.procs.app_ids)
    ctx.say(f"deleted {len(deleted)} topics of the bench's app ids")
    if not trim_shared:
        return
    for topic in SHARED_TOPICS:
        _, end = await offsets(ctx.bootstrap, topic, ctx.partitions)
        removed = await trim(ctx.bootstrap, end)
        ctx.say(f"trimmed {removed:,} records from {topic} (a fresh consumer would replay them)")

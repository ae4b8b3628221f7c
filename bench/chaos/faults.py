"""The fault loop: each fault at its time, lifted, then waited on until the gateway recovered."""

import asyncio

import aiohttp

from bench.chaos.cluster import Cluster
from bench.chaos.injectors import INJECTORS
from bench.chaos.recovery import Backlog, backlog, wait_recovered
from bench.chaos.schedule import Fault

RECOVERY_WITHIN_S = 180.0  # longer than a cold restore of the bench's catalogue


async def run_faults(cluster: Cluster, faults: list[Fault]) -> None:
    """Inject every fault in turn, never two at once, recording when each recovered."""
    for fault in faults:
        await asyncio.sleep(max(0.0, fault.planned_s - cluster.now()))
        before = await _backlog(cluster)
        fault.at_s = cluster.now()
        cluster.say(f"chaos: {fault.at_s:6.1f} s  {fault.kind} ...")
        try:
            await INJECTORS[fault.kind](cluster, fault)
        except Exception as exc:  # the fault itself failed: a finding, and the run goes on
            fault.notes["error"] = f"{type(exc).__name__}: {exc}"
        queue = cluster.settings.wms_queues.events.name
        settings = cluster.settings
        recovered = await wait_recovered(
            settings.kafka_bootstrap,
            settings.amqp_url,
            queue,
            cluster.workers,
            before,
            RECOVERY_WITHIN_S,
        )
        if recovered:
            fault.recovered_s = cluster.now() - fault.at_s
        cluster.say(
            f"chaos: {cluster.now():6.1f} s  {fault.kind} on {fault.target}: "
            + (f"recovered in {fault.recovered_s:.1f} s" if recovered else "NOT recovered")
            + (f" ({fault.notes['error']})" if "error" in fault.notes else "")
        )


async def _backlog(cluster: Cluster) -> Backlog:
    """The backlog before a fault (none when it cannot be read: the floors then apply)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        queue = cluster.settings.wms_queues.events.name
        found = await backlog(http, cluster.settings.amqp_url, queue, cluster.workers)
    return found or Backlog(0, 0.0)

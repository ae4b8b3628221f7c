"""`--chaos` in a peak run: the partners started, the fault loop beside the load, the account.

The peak run hands over its workers and the load's clock; it gets back the on hand the
oracle must expect (what the WMSs shipped is gone) and report.json's `chaos` section.
"""

import asyncio
import contextlib
import dataclasses
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from app.dev.workers import WorkerProcess
from app.settings import Settings
from bench.chaos import accounting, schedule
from bench.chaos.cluster import Cluster
from bench.chaos.faults import run_faults
from bench.chaos.fleet import Fleet
from bench.chaos.latency import faults_vs_steady
from bench.chaos.poison_send import dead_lettered
from bench.common.workload import order_prefix, warehouse_names
from bench.load.recorder import Recorder
from bench.peak.oracle import Position, positions
from bench.peak.params import PeakParams

FETCH_CONCURRENCY = 32


def fit_duration(params: PeakParams, say: Callable[[str], None]) -> PeakParams:
    """The params with a duration long enough for every fault of the schedule."""
    needed = schedule.needed_duration(params.chaos, params.chaos_every)
    if not params.chaos or params.duration >= needed:
        return params
    say(f"chaos: {len(params.chaos)} faults every {params.chaos_every:g} s need {needed:g} s")
    return dataclasses.replace(params, duration=needed)


@dataclass
class Chaos:
    """The faults of one run and the partners they act through."""

    cluster: Cluster
    faults: list[schedule.Fault]
    load_s: float  # the load's duration: a fault that outlasts the schedule may begin after it
    _task: asyncio.Task[None] | None = None

    def start(self, started: float) -> None:
        """Begin the schedule against the load's clock (perf_counter of its second 0)."""
        self.cluster.started = started
        self._task = asyncio.create_task(run_faults(self.cluster, self.faults))

    async def finish(self) -> None:
        """Wait for the last fault's recovery."""
        if self._task is not None:
            await self._task

    def expected_on_hand(self, received: Mapping[Position, int]) -> Counter[Position]:
        """On hand the warehouses reported: received, less what they shipped."""
        expected = Counter(received)
        expected.subtract(self.cluster.fleet.shipped())
        return expected

    async def account(
        self,
        urls: Sequence[str],
        order_ids: Sequence[str],
        on_hand: Mapping[Position, int],
        uncertain: Mapping[Position, int],
        http_errors: Counter[str],
        recorders: Mapping[str, Recorder],
    ) -> dict[str, Any]:
        """report.json's `chaos` section, from the gateway's settled state."""
        orders = await _fetch(urls, [f"/v1/orders/{o}" for o in order_ids])
        skus = sorted({sku for sku, _ in on_hand})
        figures = positions((await _fetch(urls, [f"/v1/atp/{sku}" for sku in skus])).values())
        stock_lost, stock_duplicated = accounting.stock_errors(figures, on_hand, uncertain)
        held_lost, held_duplicated = accounting.holding_errors(figures, orders)
        markers = {p.marker for sent in self.cluster.poisoned for p in sent.to_dead_letter}
        settings = self.cluster.settings
        topic = settings.topics.dead_letters.name
        dead = await dead_lettered(settings.kafka_bootstrap, topic, settings.partitions, markers)
        section: dict[str, Any] = {
            "faults": [
                fault.as_report() | {"under_load": (fault.at_s or 0.0) < self.load_s}
                for fault in self.faults
            ],
            "lost": accounting.undecided(orders)
            + stock_lost
            + held_lost
            + accounting.poison_lost(self.cluster.poisoned, dead),
            "duplicated": stock_duplicated + held_duplicated,
            "oversold": accounting.oversold(figures),
            "http_errors": accounting.http_errors(http_errors, self.cluster.poisoned),
            "uncertain_units": sum(uncertain.values()),
            "stock_mismatches": accounting.stock_mismatches(figures, on_hand, uncertain),
            "poison": {"sent": len(markers), "dead_lettered": len(dead)},
            "latency_ms": faults_vs_steady(recorders, self.faults),
        }
        section["correct"] = accounting.correct(section)
        return section


@contextlib.asynccontextmanager
async def chaos_session(
    params: PeakParams,
    settings: Settings,
    workers: list[WorkerProcess],
    tag: str,
    say: Callable[[str], None],
) -> AsyncIterator[Chaos | None]:
    """The run's Chaos (None without --chaos); the partners stopped on the way out."""
    if not params.chaos:
        yield None
        return
    app_id = workers[0].settings.app_id
    deployment = settings.with_overrides(app_id=app_id)
    fleet = Fleet(
        settings.amqp_url,
        settings.kafka_bootstrap,
        app_id,
        warehouse_names(params.warehouses),
        orders_prefix=order_prefix(tag),
    )
    await fleet.start()
    faults = schedule.plan(params.chaos, params.chaos_every)
    for line in schedule.describe(faults):
        say(line)
    rng = random.Random(params.seed)
    cluster = Cluster(deployment, workers, fleet, 0.0, rng, say, tag, params.wms_outage_s)
    try:
        yield Chaos(cluster, faults, params.duration)
    finally:
        await fleet.stop()


async def _fetch(urls: Sequence[str], paths: Sequence[str]) -> dict[str, Any]:
    """path -> JSON body, or the status when not 200; round-robin over the workers."""
    connector = aiohttp.TCPConnector(limit=FETCH_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(n: int, path: str) -> Any:
            async with http.get(urls[n % len(urls)] + path) as response:
                return await response.json() if response.status == 200 else response.status

        answers = await asyncio.gather(*(one(n, path) for n, path in enumerate(paths)))
    return dict(zip(paths, answers, strict=True))

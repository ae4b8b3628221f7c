"""`distgate bench`: the gateway at peak load, against raw baselines, checked by an oracle.

All in one run on the local stack, with fresh workers of a fresh app id:
1. seed: receipts for every SKU-warehouse position over AMQP, drained by the workers
   (bridge and projection throughput) and by raw aio-pika and aiokafka loops over the
   same backlog (their baselines: consume+ack; project+produce, and consume+decode);
2. capacity: closed-loop ATP GET and check, the first worker against a bare aiohttp
   handler serving the same bytes (and GET again with wrk, when installed); orders with
   `order_in_flight` of them between POST and their reservation decision;
3. peak: for `duration` seconds, open-loop ATP reads and checks, orders (POST to their
   reservation decision) and WMS receipts with probes, with a burst in the middle; the
   workers' and the bench's own CPU sampled every second, the pacers' lateness counted;
   beside them, orders with backorders allowed on a few scarce SKUs and their receipts;
4. verify: every accepted order decided, stock equal to the oracle, nothing oversold;
   backorders filled oldest first and none kept waiting while its SKU has ATP.
report.json (top-level "correct") and report.html with plots go into the out folder.
"""

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from app.dev.workers import WorkerProcess
from app.settings import Settings
from bench.chaos.session import Chaos, chaos_session, fit_duration
from bench.common.deployment import declare_deployment
from bench.common.monitor import Monitor
from bench.common.params import Context
from bench.common.procs import pids_of, runqueue_wait_seconds
from bench.common.session import bench_session
from bench.common.stats import zipf_exponent_for, zipf_weights
from bench.common.stop_signals import sigterm_as_interrupt
from bench.common.workload import Catalogue, catalogue, order_prefix, warehouse_names
from bench.load.openloop import Pacing, Shape, pace
from bench.load.recorder import Recorder
from bench.peak import seed as peak_seed
from bench.peak.backorder_facts import backorders_settled, end_offsets
from bench.peak.capacity import measure_capacity
from bench.peak.headline import headline, number
from bench.peak.oracle import verify
from bench.peak.orders import order_capacity
from bench.peak.params import PeakParams
from bench.peak.report import assemble
from bench.peak.scarce import ScarceLoad, ScarceShop, scarce_skus
from bench.peak.shop import Shop
from bench.peak.wms import SeedReceipt, Warehouses
from bench.report.html import write_html, write_plots
from bench.report.results import default_out_dir, write_report
from protocols.topics import ORDERS_EVENTS, Topics

INTERRUPTED = 130  # what a shell reports for a run ended by SIGINT


@dataclass
class Seeded:
    """What phase 1 leaves: its figures, the running workers, the warehouses' truth so far."""

    figures: dict[str, Any]
    workers: list[WorkerProcess]
    wms: Warehouses
    app_id: str


def run_bench(params: PeakParams, say: Callable[[str], None] = print) -> int:
    """Run the bench; 0 when the oracle agreed with the gateway, 1 otherwise."""
    out = params.out or default_out_dir()
    params = fit_duration(params, say)
    try:
        with sigterm_as_interrupt():
            report = asyncio.run(_run(params, out, say))
    except KeyboardInterrupt:
        say("bench: interrupted; its workers and helpers were stopped")
        return INTERRUPTED
    write_report(out, report)
    write_html(out, report)
    write_plots(out, report)
    for line in headline(report):
        say(line)
    say(f"report: {out / 'report.json'} and {out / 'report.html'}")
    return 0 if report["correct"] else 1


async def _run(params: PeakParams, out: Path, say: Callable[[str], None]) -> dict[str, Any]:
    async with bench_session(pin=False, trim_shared=False, logs_to=out / "logs", say=say) as ctx:
        settings = Settings.from_env()
        names = warehouse_names(params.warehouses)
        cat = catalogue(ctx.tag, params.skus, params.seed, names)
        seeded = await _seed(ctx, settings, params, cat)
        capacity = await measure_capacity(
            ctx, cat, seeded.workers[0], params.concurrency, params.capacity_seconds
        )
        peak = await _peak(ctx, settings, params, cat, seeded)
        return assemble(params, seeded.figures, capacity, peak)


async def _seed(ctx: Context, settings: Settings, params: PeakParams, cat: Catalogue) -> Seeded:
    """Phase 1: the seed backlog through the baselines and then through the workers."""
    receipts = peak_seed.seed_receipts(cat, ctx.tag, params.lines_per_receipt)
    events = sum(len(lines) for _, _, lines in receipts)
    ctx.say(f"seed: {len(receipts):,} receipts, {events:,} positions of {len(cat.skus):,} SKUs")
    raw_amqp = await peak_seed.raw_amqp_baseline(ctx, settings.amqp_url, receipts)
    ctx.say(f"seed: raw aio-pika consume+ack {raw_amqp['per_s']:,.0f} msgs/s")
    app_id = ctx.procs.new_app_id("peak")
    deployment = await declare_deployment(app_id)
    inbox = deployment.topics.stock_inbox.name
    inbox_start = await peak_seed.inbox_ends(ctx, inbox)
    wms = await _publish_seed(settings, ctx.tag, receipts)
    workers = [ctx.procs.worker(f"worker-{n + 1}", app_id, None) for n in range(params.workers)]
    queue = deployment.wms_queues.events.name
    drain = await peak_seed.drain_rates(settings.amqp_url, queue, workers, events, within=900)
    ctx.say(
        f"seed: worker bridged {number(drain['bridge_messages_per_s'])} msgs/s, projected "
        f"{number(drain['projection_events_per_s'])} events/s"
    )
    for worker in workers:
        await worker.wait_ready()
    raw_project = await peak_seed.raw_project_baseline(ctx, inbox, inbox_start)
    ctx.say(f"seed: raw aiokafka project+produce {raw_project['events_per_s']:,.0f} events/s")
    projection = await peak_seed.worker_project(ctx, inbox, inbox_start, events)
    ctx.say(f"seed: a fresh worker projected {projection['events_per_s']:,.0f} events/s")
    raw_kafka = await peak_seed.raw_kafka_baseline(ctx, inbox, inbox_start)
    ctx.say(f"seed: raw aiokafka consume+decode {raw_kafka['events_per_s']:,.0f} events/s")
    figures = {
        "receipts": len(receipts),
        "events": events,
        "drain": drain,
        "raw_amqp": raw_amqp,
        "raw_project": raw_project,
        "projection": projection,
        "raw_kafka": raw_kafka,
    }
    return Seeded(figures, workers, wms, app_id)


async def _publish_seed(settings: Settings, tag: str, receipts: list[SeedReceipt]) -> Warehouses:
    """Publish the seed receipts for the workers; the publisher keeps the truth."""
    async with aiohttp.ClientSession() as http:
        wms = Warehouses(settings.amqp_url, tag, (), (), (), (), http)
        async with wms:
            await wms.publish_receipts(receipts)
    return wms


async def _peak(
    ctx: Context, settings: Settings, params: PeakParams, cat: Catalogue, seeded: Seeded
) -> dict[str, Any]:
    """The order capacity loop (the end of phase 2), phases 3 and 4: open-loop load, the oracle."""
    urls = [worker.url for worker in seeded.workers]
    weights = zipf_weights(len(cat.skus), zipf_exponent_for(len(cat.skus)))
    atp_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    order_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512))
    async with atp_http, order_http:
        prefix = order_prefix(ctx.tag)
        shop = Shop(urls, cat.skus, weights, atp_http, order_http, params.seed, prefix)
        wms = Warehouses(
            settings.amqp_url,
            ctx.tag,
            cat.skus,
            cat.stocked_in,
            warehouse_names(params.warehouses),
            urls,
            atp_http,
            params.probe_every,
            params.seed,
            truth=seeded.wms.truth,
        )
        closed_shop = Shop(urls, cat.skus, weights, atp_http, order_http, params.seed + 1, prefix)
        # every fill of the run's orders is read from here, those of the capacity loop too
        events_from = await end_offsets(ctx.bootstrap, ORDERS_EVENTS.name)
        orders = await _order_capacity(ctx, params, closed_shop)
        scarce = _scarce_load(ctx, settings, params, urls, (atp_http, order_http), wms)
        chaos = chaos_session(params, settings, seeded.workers, ctx.tag, ctx.say)
        async with wms, scarce.wms, chaos as faults:
            await scarce.stock()
            monitor = Monitor(
                {
                    f"{w.name}/{name}": pid
                    for w in seeded.workers
                    for name, pid in pids_of(w).items()
                },
                0.0,
            )
            loadgen = Monitor({"bench": os.getpid()}, 0.0)
            wait_before, began = runqueue_wait_seconds(os.getpid()), time.perf_counter()
            pacings = await _load(ctx, params, shop, wms, (monitor, loadgen), faults, scarce)
            if faults is not None:
                await faults.finish()
            waited = runqueue_wait_seconds(os.getpid()) - wait_before
            wait_share = waited / (time.perf_counter() - began)
            await scarce.last_delivery()
    accepted = [*orders.pop("accepted"), *shop.accepted, *scarce.shop.accepted]
    ctx.say(f"verify: {len(accepted):,} orders, {len(wms.truth):,} positions")
    on_hand = wms.truth if faults is None else faults.expected_on_hand(wms.truth)
    checks = await verify(urls, accepted, on_hand, params.settle_timeout)
    ctx.say("verify: backorders filled oldest first, none kept waiting by free stock")
    inbox = Topics.for_app(seeded.app_id).stock_inbox.name
    backorders = await backorders_settled(
        urls, accepted, (ctx.bootstrap, inbox, events_from), prefix, params.settle_timeout
    )
    cost = None
    if faults is not None:
        ctx.say("chaos: counting what the faults cost")
        recorders = {r.name: r for r in (shop.atp_get, shop.orders, wms.probes)}
        cost = await faults.account(
            urls, accepted, on_hand, wms.uncertain, shop.http_errors, recorders
        )
    return {
        "chaos": cost,
        "shop": shop,
        "wms": wms,
        "monitor": monitor,
        "checks": checks,
        "backorders": backorders | {"load": scarce.figures()},
        "pacings": pacings,
        "loadgen_cpu": loadgen.cpu_percent.get("bench", []),
        "loadgen_cpu_wait_share": wait_share,
        "order_capacity": orders,
    }


def _scarce_load(
    ctx: Context,
    settings: Settings,
    params: PeakParams,
    urls: list[str],
    sessions: tuple[aiohttp.ClientSession, aiohttp.ClientSession],
    wms: Warehouses,
) -> ScarceLoad:
    """The scarce SKUs' own shop and warehouses, publishing into the peak's truth."""
    names = warehouse_names(params.warehouses)
    stocked_in = scarce_skus(ctx.tag, params.scarce_skus, names, params.seed)
    skus = list(stocked_in)
    atp_http, order_http = sessions
    prefix = order_prefix(ctx.tag)
    shop = ScarceShop(urls, skus, [1.0] * len(skus), atp_http, order_http, params.seed + 2, prefix)
    own_wms = Warehouses(
        settings.amqp_url,
        ctx.tag,
        skus,
        [stocked_in[sku] for sku in skus],
        names,
        urls,
        atp_http,
        truth=wms.truth,
        uncertain=wms.uncertain,
    )
    return ScarceLoad(shop, own_wms, stocked_in, params.seed)


async def _order_capacity(ctx: Context, params: PeakParams, shop: Shop) -> dict[str, Any]:
    """The closed-loop order phase on a shop of its own; its figures and accepted order ids."""
    seconds, in_flight = params.order_capacity_seconds, params.order_in_flight
    ctx.say(f"capacity: orders, {in_flight} in flight for {seconds:g} s")
    figures = await order_capacity(shop, in_flight, seconds)
    latency = figures["latency_ms"] or {}
    ctx.say(
        f"capacity: orders {number(figures['capacity_per_s'])}/s POST to decided"
        f"  p50 {number(latency.get('p50'))} ms  p99 {number(latency.get('p99'))} ms"
        f"  errors {figures['errors']}"
    )
    return {**figures, "accepted": shop.accepted}


async def _load(
    ctx: Context,
    params: PeakParams,
    shop: Shop,
    wms: Warehouses,
    monitors: tuple[Monitor, Monitor],
    faults: Chaos | None,
    scarce: ScarceLoad,
) -> dict[str, Pacing]:
    """Every path paced over the same clock, with the samplers and the progress lines."""
    started = time.perf_counter() + 0.5
    recorders = (shop.atp_get, shop.atp_check, shop.orders, wms.probes, wms.publishes)
    for recorder in recorders:
        recorder.started = started
    for monitor in monitors:
        monitor.started = started
    if faults is not None:
        faults.start(started)
    begin, end = params.burst_window
    ctx.say(
        f"peak: {params.duration:.0f} s, burst x{params.burst_factor:g} at {begin:.0f}-{end:.0f} s"
    )
    paths = {
        "atp_get": (params.atp_rate, shop.get_atp),
        "atp_check": (params.atp_check_rate, shop.check_atp),
        "order_reserved": (params.order_rate, shop.order),
        "amqp_to_atp": (params.wms_rate, wms.send),
    }
    late_s = params.late_ms / 1000.0
    paced = [
        pace(Shape(rate, params.burst_factor, begin, end), started, params.duration, fire, late_s)
        for rate, fire in paths.values()
    ]
    seconds = int(params.duration)
    sampling = asyncio.gather(
        *(monitor.run(seconds) for monitor in monitors),
        _progress(ctx, recorders[:4], started, seconds),
    )
    rates = (params.backorder_rate, params.refill_rate)
    pacings, _ = await asyncio.gather(
        asyncio.gather(*paced), scarce.run(rates, started, params.duration, late_s)
    )
    await sampling
    return dict(zip(paths, pacings, strict=True))


async def _progress(
    ctx: Context, recorders: Sequence[Recorder], started: float, seconds: int
) -> None:
    """A line every 5 s: how far, and what each path completed per second in the last 5 s."""
    seen = {recorder.name: 0 for recorder in recorders}
    for mark in range(5, seconds + 1, 5):
        await asyncio.sleep(max(0.0, started + mark - time.perf_counter()))
        parts = []
        for recorder in recorders:
            done = len(recorder.latencies)
            parts.append(f"{recorder.name} {(done - seen[recorder.name]) / 5:,.0f}/s")
            seen[recorder.name] = done
        errors = sum(recorder.errors for recorder in recorders)
        ctx.say(f"peak: {mark:>4}/{seconds} s  " + "  ".join(parts) + f"  errors {errors}")

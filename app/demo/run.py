"""`distgate demo`: start a worker and the simulators, play the day, check it, stop everything.

Each run has its own app id (a consumer group that starts at the end of every topic), data
directory and SKU and order names, so runs on one Kafka and RabbitMQ never see each other.
The worker is stopped with SIGTERM at the end, also on failure or Ctrl-C.
"""

import asyncio
import contextlib
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from aiokafka.errors import KafkaError

from app.demo.catalogue import sku_prefix
from app.demo.day import Day, DaySpec, decision_timeout_s, order_prefix, plan_day
from app.demo.flags import DemoOptions
from app.demo.session import Peers, play_session
from app.demo.watch import Watcher
from app.dev import stack
from app.dev.deployments import remove_deployment
from app.dev.workers import WorkerProcess, current_env, worker_env
from app.settings import Settings
from app.sim.erp import ErpSimulator
from app.sim.shop import ShopError
from app.sim.wms import WmsSimulator

PICK_DELAY = SHIP_DELAY = 1.5  # seconds a warehouse takes to pick, then to ship
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60)

Say = Callable[[str], None]


class DemoError(Exception):
    """The demo could not run (as opposed to: it ran and the gateway disagreed)."""


def run_demo(settings: Settings, options: DemoOptions, out: TextIO | None = None) -> int:
    """Play one day; 0 when everything matched, 1 when anything disagreed or failed."""
    stream = out or sys.stdout
    try:
        return asyncio.run(_demo(settings, options, stream))
    except KeyboardInterrupt:
        print("\ndistgate demo: interrupted; worker and simulators stopped", file=stream)
        return 130
    except (DemoError, ShopError, AssertionError, aiohttp.ClientError, KafkaError, OSError) as exc:
        print(f"\ndistgate demo: failed: {exc}", file=stream)
        return 1


async def _demo(settings: Settings, options: DemoOptions, out: TextIO) -> int:
    say = _printer(out)
    await _brokers(settings, say)
    run = f"{time.strftime('%H%M%S')}{uuid.uuid4().hex[:4].upper()}"
    home = (settings.data_dir / "demo" / run).resolve()
    home.mkdir(parents=True)
    erp = ErpSimulator(
        settings.kafka_bootstrap,
        hold_rate=options.credit_holds,
        reject_rate=options.rejects,
        hold_for=max(1.0, options.duration / 15),
        seed=f"demo-{options.seed}",
        orders_prefix=order_prefix(run),
    )
    day = plan_day(_spec(run, options), erp.fate)
    erp.never_decide = day.undecided
    say(_intro(day, home))
    async with contextlib.AsyncExitStack() as running:
        worker = _start_worker(settings, home, run, decision_timeout_s(day.spec))
        running.push_async_callback(_remove, worker)  # last: once the worker stopped
        running.callback(_stop_worker, worker, say)
        peers = Peers(
            wms=WmsSimulator(
                settings.amqp_url,
                options.warehouses,
                short_pick_rate=options.short_picks,
                pick_delay=PICK_DELAY,
                ship_delay=SHIP_DELAY,
                seed=options.seed,
                orders_prefix=order_prefix(run),
            ),
            erp=erp,
            watcher=Watcher(settings.kafka_bootstrap, order_prefix(run), sku_prefix(run)),
        )
        say(f"  waiting for the worker on {worker.url} to be ready...")
        await worker.wait_ready()
        # only now: on a fresh Kafka the worker creates the topics the peers read and write
        for peer in (peers.watcher, peers.wms, peers.erp):
            await peer.start()
            running.push_async_callback(peer.stop)
        http = await running.enter_async_context(aiohttp.ClientSession(timeout=HTTP_TIMEOUT))
        tty = out.isatty() and not options.plain
        session = play_session(day, worker.url, http, peers, options.settle, out, tty)
        code = await _while_alive(worker, session)
    if code:
        say(f"  worker log: {home / 'worker.log'}")
    return code


async def _while_alive(worker: WorkerProcess, session: Coroutine[Any, Any, int]) -> int:
    """Run the session; end it with an error if the worker exits meanwhile."""
    task = asyncio.ensure_future(session)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=1.0)
            process = worker.process
            if not task.done() and process is not None and process.poll() is not None:
                raise DemoError(
                    f"the worker exited (status {process.returncode}):\n{worker.log_tail(12)}"
                )
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _spec(run: str, options: DemoOptions) -> DaySpec:
    return DaySpec(
        run=run,
        orders=options.orders,
        skus=options.skus,
        seed=options.seed,
        duration=options.duration,
        warehouses=options.warehouses,
        looks=options.looks,
    )


def _intro(day: Day, home: Path) -> str:
    spec = day.spec
    return (
        f"distgate demo: run {spec.run}, seed {spec.seed}: {len(day.arrivals)} orders over "
        f"{spec.duration:.0f} s, {len(day.catalogue.skus)} SKUs in {', '.join(spec.warehouses)}"
        f"\n  ERP will never decide {len(day.undecided)} of them: the worker cancels such orders "
        f"after {decision_timeout_s(spec)} s\n  worker log: {home / 'worker.log'}"
    )


async def _brokers(settings: Settings, say: Say) -> None:
    """Kafka and RabbitMQ on loopback: reuse the running ones or start them."""
    statuses = await asyncio.to_thread(
        stack.up,
        settings.dev_home,
        settings.cache_dir,
        lambda message: say(f"  {message}"),
        ports=stack.ports_for(settings.kafka_bootstrap, settings.amqp_url),
    )
    down = [status.name for status in statuses if not status.running]
    if down:
        raise DemoError(f"{' and '.join(down)} did not start; try `distgate dev status`")


def _start_worker(settings: Settings, home: Path, run: str, timeout_s: int) -> WorkerProcess:
    """A worker with a fresh app id (its own topics and queue) and its own data.

    Its decision timeout is `timeout_s`: the orders ERP never decides are cancelled in the day.
    """
    app_id = f"distgate-demo-{run.lower()}"
    env = worker_env(
        current_env(),
        home / "worker",
        app_id,
        DISTGATE_KAFKA_URL=settings.kafka_url,
        DISTGATE_AMQP_URL=settings.amqp_url,
        DISTGATE_PARTITIONS=str(settings.partitions),
        DISTGATE_REPLICATION_FACTOR=str(settings.replication_factor),
        DISTGATE_DECISION_TIMEOUT_S=str(timeout_s),
    )
    worker = WorkerProcess("demo worker", env, home / "worker.log")
    worker.start()
    return worker


def _stop_worker(worker: WorkerProcess, say: Say) -> None:
    """SIGTERM (killed if it ignores it); its RocksDB state goes, its log stays."""
    try:
        worker.terminate()
    except AssertionError as exc:
        say(f"distgate demo: {exc}")
    shutil.rmtree(worker.data_dir, ignore_errors=True)


async def _remove(worker: WorkerProcess) -> None:
    """The run's deployment goes too: its queue would collect every WMS event from then on."""
    deployment = worker.settings
    await remove_deployment(deployment.kafka_bootstrap, deployment.amqp_url, deployment.app_id)


def _printer(out: TextIO) -> Say:
    def say(message: str) -> None:
        print(message, file=out, flush=True)

    return say

"""`distgate worker` as a supervisor: agents processes share the partitions, children come back."""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import pytest

from app.agents_status import read_status, status_path
from app.dev import process
from app.dev.workers import WorkerProcess
from app.settings import Settings
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import call, receive, submit
from tests.support.wms import metric

pytestmark = pytest.mark.brokers

T = TypeVar("T")

STOCK_APPLIED = 'distgate_events_applied_total{outcome="applied",table="stock"}'


def inbox_share(worker: WorkerProcess, index: int) -> set[str]:
    """The inbox partitions agents process `index` reports it consumes."""
    status = read_status(status_path(worker.data_dir, index))
    assert status is not None, f"agents-{index} reports nothing"
    topics = worker.settings.topics
    inboxes = (topics.stock_inbox.name, topics.order_inbox.name)
    return {tp for tp in status.assigned if tp.rpartition("/")[0] in inboxes}


async def readyz(worker: WorkerProcess) -> int | None:
    """The /readyz status code, or None while nothing answers."""
    try:
        return (await call(worker.url, "GET", "/readyz"))[0]
    except aiohttp.ClientError:
        return None


async def replaced(worker: WorkerProcess, name: str, killed: int) -> int:
    """The pid of the child the supervisor started in place of `killed`."""
    pid = await eventually(
        lambda: asyncio.sleep(0, worker.children().get(name)),
        lambda pid: pid not in (None, killed),
    )
    assert pid is not None
    return pid


async def test_two_agents_processes_share_the_partitions_and_decide_every_order(
    spawn_worker: SpawnWorker, brokers: Settings
) -> None:
    # Given a worker with two agents processes
    worker = spawn_worker("w1", "--agents", "2")
    await worker.wait_ready()
    # Then, once the group has settled (the first process may report every partition until
    # the second joins), each consumes a share of the inboxes, none the same partition,
    # together all of them
    shares = await eventually(
        lambda: asyncio.sleep(0, [inbox_share(worker, 0), inbox_share(worker, 1)]),
        lambda shares: all(shares) and not shares[0] & shares[1],
    )
    assert len(shares[0] | shares[1]) == 2 * brokers.partitions  # both inboxes, every partition
    # When 8 SKUs get 2 units each and 3 orders of one unit each
    skus = [unique(f"P{i}") for i in range(8)]
    for sku in skus:
        await receive(worker, sku, "DC-EAST", 2)
    for sku in skus:
        await eventually(
            lambda s=sku: call(worker.url, "GET", f"/v1/atp/{s}"), lambda r: r[0] == 200
        )
    placed = {sku: [await submit(worker.url, "C-1", [(sku, 1)]) for _ in range(3)] for sku in skus}
    # Then every order is decided, two reserved and one rejected per SKU
    for sku, order_ids in placed.items():
        statuses = []
        for order_id in order_ids:
            _, order = await call(
                worker.url, "GET", f"/v1/orders/{order_id}?wait_for=RESERVED&timeout=20"
            )
            statuses.append(order["status"])
        assert sorted(statuses) == ["REJECTED", "RESERVED", "RESERVED"], (sku, statuses)
    # And /metrics counts what both agents processes applied, as one worker
    assert await metric(worker.url, STOCK_APPLIED) >= len(skus)
    # And SIGTERM stops the worker with exit code 0 and leaves no child behind
    children = worker.children()
    assert set(children) == {"agents-0", "agents-1", "bridge", "api"}
    assert worker.terminate() == 0, worker.log_tail()
    assert not [pid for pid in children.values() if process.is_alive(pid)]


async def test_a_killed_child_is_restarted_and_the_worker_is_ready_again(
    spawn_worker: SpawnWorker,
) -> None:
    # Given a ready worker
    worker = spawn_worker()
    await worker.wait_ready()
    # When its agents process is killed with -9
    killed = worker.kill_child("agents-0")
    # Then the API says at once that the worker is not ready
    await eventually(lambda: readyz(worker), lambda code: code == 503, within=5)
    # And the supervisor starts the agents process again, and the worker becomes ready
    await replaced(worker, "agents-0", killed)
    await worker.wait_ready()
    # When its API process is killed with -9, Then it is started again and ready
    killed = worker.kill_child("api")
    await replaced(worker, "api", killed)
    await worker.wait_ready()
    assert worker.process is not None
    assert worker.process.poll() is None


async def test_a_killed_supervisor_leaves_no_orphan(spawn_worker: SpawnWorker) -> None:
    # Given a ready worker
    worker = spawn_worker()
    await worker.wait_ready()
    children = worker.children()
    assert worker.process is not None
    # When its supervisor is killed with -9
    worker.process.kill()
    worker.process.wait()
    # Then its children notice and stop
    await eventually(
        lambda: asyncio.sleep(0, [pid for pid in children.values() if process.is_alive(pid)]),
        lambda alive: not alive,
        within=60,
    )


async def test_a_child_that_keeps_failing_ends_the_worker(spawn_worker: SpawnWorker) -> None:
    # Given a ready worker (a port taken before it starts is refused at once, exit 2)
    worker = spawn_worker("w1")
    await worker.wait_ready()
    assert worker.process is not None
    port = int(worker.env["DISTGATE_HTTP_PORT"])
    with socket.socket() as squatter:
        # When its API process dies and another program takes the port before the restart,
        # so that every restart of the API fails to listen
        worker.kill_child("api")
        await eventually(_async(lambda: _listens(squatter, port)), bool, within=10, every=0.005)
        code = await asyncio.to_thread(worker.process.wait, 120)
    # Then the worker gives up with exit code 1 and one clear line
    assert code == 1, worker.log_tail()
    assert "distgate worker: error: api exited 5 times in a row" in worker.log_tail()


def _listens(sock: socket.socket, port: int) -> bool:
    """Bind and listen on the port; False while its last holder still has it."""
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    sock.listen()
    return True


def _async(probe: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    async def call() -> T:
        return probe()

    return call

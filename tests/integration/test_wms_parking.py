"""One warehouse without a WMS queue delays only its own commands; they wait, durably, in order."""

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from app.dev.deployments import remove_deployment
from app.settings import Settings
from protocols.wms import NumberedLine
from protocols.wms_events import CancelAtWarehouse, ReleaseToWarehouse, WmsCommandMessage
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, unique
from tests.support.polling import eventually
from tests.support.wms import command_tap, metric, pending_commands, take, unique_warehouse

pytestmark = pytest.mark.brokers

ORDER_KEY = b"SO-one-partition"  # one key: every command on one Kafka partition
RELEASED = 'distgate_flow_latency_seconds_count{flow="order_to_released"}'


def release(warehouse: str, n: int) -> ReleaseToWarehouse:
    """A release of order n to `warehouse`, with an id of its own."""
    return ReleaseToWarehouse(
        event_id=unique(f"rel-{n}"), order_id=f"SO-{n}", warehouse=warehouse, txn=f"REL-{n}",
        lines=(NumberedLine(1, "SKU-1", 1),),
    )  # fmt: skip


def cancel(warehouse: str, n: int) -> CancelAtWarehouse:
    """A cancel of order n at `warehouse`."""
    return CancelAtWarehouse(
        event_id=unique(f"can-{n}"), order_id=f"SO-{n}", warehouse=warehouse, txn=f"CAN-{n}"
    )


async def send(deployment: Settings, commands: list[WmsCommandMessage]) -> None:
    """Put the commands on the deployment's wms-commands topic, all on one partition, in order."""
    topic = deployment.topics.wms_commands.name
    await produce(deployment.kafka_bootstrap, topic, [(ORDER_KEY, c) for c in commands])


async def test_an_unbound_warehouse_waits_while_the_others_flow(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker, a warehouse whose WMS is bound and one whose WMS is not
    worker = spawn_worker()
    bound, unbound = unique_warehouse(), unique_warehouse()
    waiting = [release(unbound, n) if n % 3 else cancel(unbound, n) for n in range(6)]
    flowing = [release(bound, n) for n in range(6)]
    await worker.wait_ready()
    async with command_tap(deployment.amqp_url, bound) as bound_queue:
        # When their commands come interleaved on one partition
        await send(deployment, [c for pair in zip(waiting, flowing, strict=True) for c in pair])
        # Then the bound warehouse gets all of its own, in order, while the other waits
        arrived = await take(bound_queue, len(flowing), within=15)
    assert [m.message_id for m in arrived] == [c.event_id for c in flowing]
    # And each Release sent so far ended an order -> released flow; the parked ones not yet
    await eventually(lambda: metric(worker.url, RELEASED), lambda count: count == len(flowing))
    # And the metric and /readyz (still ready) say how many wait for which warehouse
    _, waits = await eventually(
        lambda: pending_commands(worker.url, unbound), lambda seen: seen[0] == len(waiting)
    )
    assert waits[unbound] == len(waiting)
    async with command_tap(deployment.amqp_url, unbound) as unbound_queue:
        # When the waiting warehouse's WMS binds its queue
        delivered = await take(unbound_queue, len(waiting))
        # Then every command waiting for it arrives, in order, none lost
        assert [m.message_id for m in delivered] == [c.event_id for c in waiting]
        assert [m.routing_key for m in delivered][:2] == [f"{unbound}.cancel", f"{unbound}.release"]
        # And nothing waits any more
        await eventually(
            lambda: pending_commands(worker.url, unbound), lambda seen: seen == (0, {})
        )
        # And the parked Releases ended theirs when they reached the WMS
        parked_releases = sum(isinstance(c, ReleaseToWarehouse) for c in waiting)
        await eventually(
            lambda: metric(worker.url, RELEASED),
            lambda count: count == len(flowing) + parked_releases,
        )
        # And its next command goes straight to it
        later = release(unbound, 99)
        await send(deployment, [later])
        (straight,) = await take(unbound_queue, 1)
    assert straight.message_id == later.event_id


async def test_parked_commands_outlive_a_worker_crash(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given commands parked for a warehouse whose WMS has no queue bound
    worker = spawn_worker()
    unbound = unique_warehouse()
    before = [release(unbound, n) for n in range(4)]
    await worker.wait_ready()
    await send(deployment, before)
    await eventually(
        lambda: pending_commands(worker.url, unbound), lambda seen: seen[0] == len(before)
    )
    # When the worker is killed, started again, and one more command comes for the warehouse
    worker.kill()
    again = spawn_worker()
    await again.wait_ready()
    after = cancel(unbound, 0)
    await send(deployment, [after])
    # Then once its WMS binds, every command arrives, the later one behind the parked ones
    # (at least once: what the killed worker had not committed is read and parked again,
    # and the WMS drops the copies by message id)
    async with command_tap(deployment.amqp_url, unbound) as queue:
        delivered = await take_until(queue, after.event_id)
    first_arrivals = list(dict.fromkeys(m.message_id for m in delivered))
    assert first_arrivals == [c.event_id for c in [*before, after]]


async def test_removing_a_deployment_removes_its_parked_commands(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a stopped worker whose deployment parked commands for an unbound warehouse
    worker = spawn_worker()
    unbound = unique_warehouse()
    await worker.wait_ready()
    await send(deployment, [release(unbound, 1)])
    await eventually(lambda: pending_commands(worker.url, unbound), lambda seen: seen[0] == 1)
    worker.kill()
    # When the deployment is removed
    queues = deployment.wms_queues
    await remove_deployment(deployment.kafka_bootstrap, deployment.amqp_url, deployment.app_id)
    # Then its parked queue and their index are gone with it
    assert not await exists(deployment.amqp_url, queues.parked(unbound).name)
    assert not await exists(deployment.amqp_url, queues.parked_index.name)


async def exists(amqp_url: str, queue: str) -> bool:
    """Whether RabbitMQ has the queue (a passive declare of a missing one closes the channel)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        try:
            await (await connection.channel()).declare_queue(queue, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return False
    return True


async def take_until(queue: AbstractQueue, message_id: str) -> list[AbstractIncomingMessage]:
    """Messages from `queue` up to and with the one whose id is `message_id`."""
    taken: list[AbstractIncomingMessage] = []
    while not taken or taken[-1].message_id != message_id:
        taken += await take(queue, 1)
    return taken

"""Throw-away deployments (tests, the demo, the bench): removed with everything named after them.

Every deployment has its own queue bound to `wms.events`; one nobody consumes any more
would collect every WMS event from then on, so a run removes its deployments' queues.
"""

import aio_pika
from aio_pika.abc import AbstractChannel
from aiokafka.admin import AIOKafkaAdminClient

from agents.wms_parking import indexed_warehouse
from protocols.amqp import WmsQueues
from tables.order.table import order_changelog
from tables.stock.table import stock_changelog


async def remove_deployment(bootstrap: str, amqp_url: str, app_id: str) -> None:
    """Delete the deployment's topics (its own, its tables' changelogs), queues and exchange.

    Its parked queues go too: the commands a throw-away deployment parked are its own.
    """
    await _delete_topics(bootstrap, app_id)
    queues = WmsQueues.for_app(app_id)
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        await _delete_parked(channel, queues)
        for queue in queues.queues():
            await channel.queue_delete(queue.name)
        await channel.exchange_delete(queues.dead_letter_exchange.name)


async def _delete_parked(channel: AbstractChannel, queues: WmsQueues) -> None:
    """The queues of commands parked for a warehouse: the index names each one."""
    spec = queues.parked_index
    index = await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)
    while (entry := await index.get(no_ack=True, fail=False)) is not None:
        warehouse = indexed_warehouse(entry.body)
        if warehouse is not None:
            await channel.queue_delete(queues.parked(warehouse).name)


async def _delete_topics(bootstrap: str, app_id: str) -> None:
    """Its own topics, its changelogs and Faust's leader topic; never another app id's."""
    faust_own = {
        stock_changelog(app_id).name,
        order_changelog(app_id).name,
        f"{app_id}-__assignor-__leader",
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = await admin.list_topics()
        names = [t for t in topics if t.startswith(f"{app_id}.") or t in faust_own]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()

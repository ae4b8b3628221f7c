"""Throw-away deployments (tests, the demo, the bench): removed with everything named after them.

Every deployment has its own queue bound to `wms.events`; one nobody consumes any more
would collect every WMS event from then on, so a run removes its deployments' queues.
"""

import aio_pika
from aiokafka.admin import AIOKafkaAdminClient

from protocols.amqp import WmsQueues
from tables.order_table import order_changelog
from tables.stock_table import stock_changelog


async def remove_deployment(bootstrap: str, amqp_url: str, app_id: str) -> None:
    """Delete the deployment's topics (its own, its tables' changelogs), queues and exchange."""
    await _delete_topics(bootstrap, app_id)
    queues = WmsQueues.for_app(app_id)
    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        for queue in queues.queues():
            await channel.queue_delete(queue.name)
        await channel.exchange_delete(queues.dead_letter_exchange.name)


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

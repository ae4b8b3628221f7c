"""Where a new deployment starts reading ERP's decisions: at their end, not their beginning.

ERP's topics are shared and kept. Supply plans are state, so a new deployment reads
`erp.supply` from its beginning. Decisions are about orders: a deployment that was
created a moment ago has none, so every decision already on `erp.order-decisions` was
about another deployment's orders and would only be dead-lettered (`unknown_order`),
hundreds of letters on a long-lived stack. When the deployment's order inbox is created
(the deployment is new), its consumer group is given committed offsets at the end of
`erp.order-decisions` before any worker consumes: committed, so a worker that crashes
before its first commit still starts there and no later decision is skipped.
"""

import logging

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from app.kafka_admin import topic_partitions
from app.settings import Settings

log = logging.getLogger(__name__)


def is_new_deployment(settings: Settings, created: list[str]) -> bool:
    """Whether declaring the topics created the deployment's order inbox just now."""
    return settings.topics.order_inbox.name in created


async def start_decisions_at_end(settings: Settings) -> None:
    """Commit the group's offsets at the end of `erp.order-decisions` (best effort).

    A group that already has members (another worker of the new deployment started at
    the same moment) refuses the commit: its workers then read from the beginning, as
    before, and the old decisions are dead-lettered.
    """
    topic = settings.topics.erp_order_decisions.name
    consumer = AIOKafkaConsumer(
        **settings.kafka.client_options(), group_id=settings.app_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = await topic_partitions(topic, **settings.kafka.client_options())
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        if ends:
            await consumer.commit(dict(ends))
        log.info("new deployment: ERP decisions are read from now on (%s)", sum(ends.values()))
    except KafkaError as exc:
        log.warning("ERP decisions will be read from their beginning: %s", exc)
    finally:
        await consumer.stop()

"""How far behind each partition an agents process consumes is, for `distgate_consumer_lag`."""

import faust
from prometheus_client import Gauge


async def record_lag(app: faust.App, gauge: Gauge) -> None:
    """Set the gauge to highwater - position for each assigned partition, and only those.

    The position is the next offset to fetch: Faust stops fetching while its agents are
    behind, so a stalled agent shows as a lag that grows with what is produced.
    """
    consumer = app.consumer
    lags = {}
    for tp in consumer.assignment():
        if not _consumed_by_agents(tp.topic):
            continue
        position = await consumer.position(tp)
        highwater = consumer.highwater(tp)
        if position is not None and highwater is not None:
            lags[(tp.topic, str(tp.partition))] = max(0, highwater - position)
    gauge.clear()  # revoked partitions leave the gauge with the rebalance
    for (topic, partition), lag in lags.items():
        gauge.labels(topic, partition).set(lag)


def _consumed_by_agents(topic: str) -> bool:
    """Not a table's changelog (read only to restore, then paused) nor Faust's own topic."""
    return not topic.endswith("-changelog") and "__assignor-__leader" not in topic

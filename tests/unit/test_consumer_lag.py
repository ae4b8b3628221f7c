"""`distgate_consumer_lag`: highwater minus position, for the partitions assigned now only."""

from types import SimpleNamespace
from typing import Any

from faust.types import TP
from prometheus_client import CollectorRegistry

from agents.runtime.metrics import AgentMetrics
from app.consumer_lag import record_lag


class Consumer:
    """What record_lag reads of Faust's consumer: assignment, position, highwater."""

    def __init__(self, offsets: dict[TP, tuple[int | None, int | None]]) -> None:
        self.offsets = offsets

    def assignment(self) -> set[TP]:
        return set(self.offsets)

    async def position(self, tp: TP) -> int | None:
        return self.offsets[tp][0]

    def highwater(self, tp: TP) -> int | None:
        return self.offsets[tp][1]


def _samples(metrics: AgentMetrics) -> dict[tuple[str, str], float]:
    family = next(iter(metrics.consumer_lag.collect()))
    return {(s.labels["topic"], s.labels["partition"]): s.value for s in family.samples}


async def test_lag_is_what_is_not_fetched_yet_and_revoked_partitions_leave() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    app: Any = SimpleNamespace(
        consumer=Consumer(
            {TP("inbox", 0): (90, 100), TP("inbox", 1): (7, 7), TP("x", 0): (None, 5)}
        )
    )
    await record_lag(app, metrics.consumer_lag)
    assert _samples(metrics) == {("inbox", "0"): 10.0, ("inbox", "1"): 0.0}
    # When partition 0 is revoked by a rebalance
    app.consumer = Consumer({TP("inbox", 1): (7, 12)})
    await record_lag(app, metrics.consumer_lag)
    # Then only partition 1 is reported
    assert _samples(metrics) == {("inbox", "1"): 5.0}

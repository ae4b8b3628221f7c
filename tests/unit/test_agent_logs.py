"""An agent's log lines about a record carry that record's correlation id, as the API's do."""

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from faust.types import TP, Message
from prometheus_client import CollectorRegistry

from agents.deadletters import DeadLetters
from agents.runtime.metrics import AgentMetrics
from agents.stock import StockActor
from protocols.deadletters import DeadLetter
from protocols.trace_headers import CORRELATION_ID
from tests.support.logs import JsonLog, json_log
from tests.support.tables import DictRows

INBOX = TP("distgate.stock-inbox", 0)


class PartitionOfDicts(DictRows):
    """A table partition in memory, as the actor uses it: nothing to sweep or flush."""

    def sweep(self, _stale: Any, _now: float) -> None:
        pass

    def flush(self) -> None:
        pass


class MemoryTable:
    """The actor's `TableRows`: one in-memory partition each."""

    def __init__(self) -> None:
        self.partitions: dict[int, PartitionOfDicts] = {}

    def partition(self, partition: int) -> PartitionOfDicts:
        return self.partitions.setdefault(partition, PartitionOfDicts())


class DeadLetterTopic:
    """The dead-letter topic: keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def send(self, *, key: bytes | None, value: bytes, headers: Any) -> None:
        self.sent.append(DeadLetter.from_headers(headers, value, key))


@pytest.fixture
def json_lines() -> Iterator[JsonLog]:
    """What the agents process writes with `DISTGATE_LOG_FORMAT=json`, formatted as it is logged."""
    with json_log("agents-0") as log:
        yield log


def record(offset: int, value: bytes, correlation_id: str | None) -> Message:
    headers = [] if correlation_id is None else [(CORRELATION_ID, correlation_id.encode())]
    return Message(INBOX.topic, 0, offset, 0.0, 0, headers, b"SKU-1", value, None, tp=INBOX)


async def test_a_dead_letter_log_line_carries_the_correlation_id_of_its_record(
    json_lines: JsonLog,
) -> None:
    # Given the stock actor, its dead letters going to a topic that keeps them
    topic = DeadLetterTopic()
    metrics = AgentMetrics(CollectorRegistry())
    dead_letters = DeadLetters(topic, metrics)  # type: ignore[arg-type]
    unused: Any = None
    actor = StockActor(MemoryTable(), unused, dead_letters, metrics, 7)  # type: ignore[arg-type]
    # When one batch holds two malformed records of two flows, and one of no flow
    batch = [record(0, b"not json", "flow-a"), record(1, b"{", "flow-b"), record(2, b"[", None)]
    await actor.handle(INBOX, batch)
    logging.getLogger("agents.test").warning("after the batch")

    # Then each record's dead-letter line names its own flow, the one of no flow the flow
    # its letter was given, and a line after the batch none
    lines = json_lines.lines()
    said = [(line["message"].split()[1], line.get("correlation_id")) for line in lines]
    ids = [letter.id for letter in topic.sent]
    assert said == [
        (ids[0], "flow-a"),
        (ids[1], "flow-b"),
        (ids[2], f"dl-{ids[2]}"),
        ("the", None),
    ]

"""The bridge's pipeline: sends in queue order, acks in order, and acks nothing after a failure."""

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry

from agents import wms_pipeline, wms_translate
from agents.runtime.correlated import incoming
from agents.runtime.failpoints import Failpoints
from agents.runtime.metrics import AgentMetrics
from agents.wms_pipeline import INLINE_BODY_BYTES, Pipeline
from protocols.topics import Topics
from protocols.trace_headers import trace_id_of
from tests.support.logs import json_log

TOPICS = Topics.for_app("distgate")


@dataclass
class FakeMessage:
    """An AMQP delivery that records how it was settled."""

    body: bytes
    routing_key: str = "W1.count"
    delivery_tag: int = 0
    message_id: str | None = None
    correlation_id: str | None = None
    content_type: str | None = "application/xml"
    timestamp: Any = None
    headers: dict[str, Any] = field(default_factory=dict)
    settled: list[str] = field(default_factory=list)

    async def ack(self, multiple: bool = False) -> None:
        self.settled.append("ack up to here" if multiple else "ack")

    async def reject(self, requeue: bool = False) -> None:
        self.settled.append(f"reject(requeue={requeue})")


class FakeQueue:
    """Hands out its messages, then waits as an idle queue would."""

    name = "distgate.wms-events"

    def __init__(self, messages: list[FakeMessage]) -> None:
        self.messages = messages

    @asynccontextmanager
    async def iterator(self) -> AsyncIterator[AsyncIterator[FakeMessage]]:
        async def deliveries() -> AsyncIterator[FakeMessage]:
            for message in self.messages:
                yield message
            await asyncio.Event().wait()

        yield deliveries()


class FakeProducer:
    """Records sends; each returns a future the test resolves (or fails) itself."""

    def __init__(self, expected: int) -> None:
        self.sent: list[tuple[str, bytes | None]] = []
        self.headers: list[list[tuple[str, bytes]]] = []
        self.futures: list[asyncio.Future[object]] = []
        self.expected, self.all_sent = expected, asyncio.Event()

    async def send(self, topic: str, value: bytes, key: bytes | None, headers: Any) -> Any:
        self.sent.append((topic, key))
        self.headers.append(headers)
        self.futures.append(asyncio.get_running_loop().create_future())
        if len(self.futures) == self.expected:
            self.all_sent.set()
        return self.futures[-1]


def count(n: int, sku: str = "S") -> FakeMessage:
    body = f'<Count txn="C-{n}" warehouse="W1"><Line sku="{sku}" on_hand="{n}"/></Count>'
    return FakeMessage(body.encode(), delivery_tag=n)


async def started(messages: list[FakeMessage]) -> tuple[Pipeline, FakeProducer, asyncio.Task[None]]:
    producer = FakeProducer(len(messages))
    metrics = AgentMetrics(CollectorRegistry())
    parser = ThreadPoolExecutor(max_workers=1)
    pipeline = Pipeline(producer, TOPICS, metrics, Failpoints(), parser)  # type: ignore[arg-type]
    running = asyncio.create_task(pipeline.run(FakeQueue(messages)))  # type: ignore[arg-type]
    await asyncio.wait_for(producer.all_sent.wait(), 5)
    return pipeline, producer, running


async def test_records_go_out_in_order_and_acks_wait_for_kafka_and_for_earlier_deliveries() -> None:
    # Given three deliveries, the second one poison
    messages = [count(1), FakeMessage(b"<Count", delivery_tag=2), count(3)]
    # When the pipeline sends them all before any Kafka acknowledgement
    _, producer, running = await started(messages)
    assert producer.sent == [
        (TOPICS.stock_inbox.name, b"S"),
        (TOPICS.dead_letters.name, None),
        (TOPICS.stock_inbox.name, b"S"),
    ]
    # Then nothing is settled until Kafka acknowledges, and the third waits for the first
    producer.futures[2].set_result(None)
    await asyncio.sleep(0.01)
    assert [m.settled for m in messages] == [[], [], []]
    for future in producer.futures[:2]:
        future.set_result(None)
    await asyncio.sleep(0.01)
    # And the poison one is rejected into the dead-letter queue, the others acked
    assert [m.settled for m in messages] == [["ack"], ["reject(requeue=False)"], ["ack"]]
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_a_kafka_failure_ends_the_session_and_later_deliveries_stay_unacked() -> None:
    # Given three deliveries sent to Kafka
    messages = [count(1), count(2), count(3)]
    _, producer, running = await started(messages)
    # When the first is acknowledged, the second fails and the third is acknowledged
    producer.futures[0].set_result(None)
    producer.futures[2].set_result(None)
    producer.futures[1].set_exception(KafkaTimeoutError())
    # Then the session ends with Kafka's error, and only the first was acked
    with pytest.raises(KafkaTimeoutError):
        await asyncio.wait_for(running, 5)
    assert [m.settled for m in messages] == [["ack"], [], []]


async def test_deliveries_kafka_already_has_are_acked_together() -> None:
    # Given four deliveries whose records Kafka acknowledges all at once
    messages = [count(n) for n in (1, 2, 3, 4)]
    _, producer, running = await started(messages)
    # When Kafka acknowledges them
    for future in producer.futures:
        future.set_result(None)
    await asyncio.sleep(0.01)
    # Then RabbitMQ gets one "multiple" ack, on the last
    assert [m.settled for m in messages] == [[], [], [], ["ack up to here"]]
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_a_large_body_is_decoded_off_the_event_loop_and_keeps_its_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a small count, a large hostile body (200,000 elements) and another small count
    hostile = b'<Count txn="C-2" warehouse="W1">' + b"<x/>" * 200_000 + b"</Count>"
    assert len(hostile) > INLINE_BODY_BYTES
    messages = [count(1), FakeMessage(hostile, delivery_tag=2), count(3)]
    decoded_on: list[str] = []
    original = wms_pipeline._translated

    def spy(*args: Any) -> Any:
        decoded_on.append(threading.current_thread().name)
        return original(*args)

    monkeypatch.setattr(wms_pipeline, "_translated", spy)
    # When the pipeline takes them
    _, producer, running = await started(messages)
    # Then only the large one was decoded on another thread, and it is a dead letter
    main = threading.current_thread().name
    assert [name == main for name in decoded_on] == [True, False, True]
    assert [topic for topic, _ in producer.sent] == [
        TOPICS.stock_inbox.name,
        TOPICS.dead_letters.name,
        TOPICS.stock_inbox.name,
    ]
    for future in producer.futures:
        future.set_result(None)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_a_confirmation_joins_the_flow_a_wms_echoes_as_property_or_as_headers() -> None:
    # Given a count whose WMS echoed the flow as the AMQP property, one that echoed our
    # headers (traceparent included), and one that echoed nothing
    sender = "00f067aa0ba902b7"
    echoed = {"correlation_id": "flow-2", "traceparent": f"00-{trace_id_of('flow-2')}-{sender}-01"}
    messages = [
        replace(count(1), correlation_id="flow-1"),
        replace(count(2), headers=echoed),
        replace(count(3), message_id="wms-msg-3"),
    ]
    # When the pipeline sends their records
    _, producer, running = await started(messages)
    # Then each record carries its flow and a traceparent of that flow's trace
    said = [incoming(headers) for headers in producer.headers]
    assert [s.correlation_id for s in said] == ["flow-1", "flow-2", "wms-msg-3"]
    assert [s.parent.trace_id for s in said if s.parent] == [
        trace_id_of("flow-1"),
        trace_id_of("flow-2"),
        trace_id_of("wms-msg-3"),
    ]
    for future in producer.futures:
        future.set_result(None)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_log_lines_about_a_delivery_name_its_flow_and_warehouse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a poison delivery of flow wms-poison-1, and a large one of flow wms-big-2 that
    # meets a bug while it is decoded on the parser thread
    big = b'<Count txn="C-2" warehouse="W2">' + b" " * INLINE_BODY_BYTES + b"</Count>"
    messages = [
        replace(FakeMessage(b"<Count", delivery_tag=1), correlation_id="wms-poison-1"),
        FakeMessage(big, routing_key="W2.count", delivery_tag=2, correlation_id="wms-big-2"),
    ]

    decode = wms_translate.decode_wms

    def buggy(key: str, body: bytes) -> Any:
        if body == big:
            raise RuntimeError("a bug")
        return decode(key, body)

    monkeypatch.setattr(wms_translate, "decode_wms", buggy)
    # When the pipeline takes them and Kafka has their dead letters
    with json_log("bridge") as log:
        _, producer, running = await started(messages)
        for future in producer.futures:
            future.set_result(None)
        await asyncio.sleep(0.01)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    # Then each line about one names its flow and the warehouse of its routing key
    said = [(ln["logger"], ln.get("correlation_id"), ln.get("warehouse")) for ln in log.lines()]
    assert said == [
        ("agents.wms_translate", "wms-big-2", "W2"),
        ("agents.deadletters", "wms-poison-1", "W1"),
        ("agents.deadletters", "wms-big-2", "W2"),
    ]

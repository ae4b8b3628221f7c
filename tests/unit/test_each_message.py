"""Relays and the WMS command agent: whatever one message does, it is handled or dead-lettered,
and every log line about it says which message it was."""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from faust.types import TP, Message
from prometheus_client import CollectorRegistry

from agents.deadletters import DeadLetters
from agents.each_message import handle_each
from agents.runtime.log_context import Subject
from agents.runtime.metrics import AgentMetrics
from agents.wms_commands import command_subject
from protocols.deadletters import DeadLetter
from protocols.erp import OrderDecision, SupplyMessage
from protocols.wms_events import WmsCommandMessage
from tests.support.logs import json_log

DECISIONS = msgspec.json.Decoder(OrderDecision).decode
SUPPLY = msgspec.json.Decoder(SupplyMessage).decode
COMMANDS = msgspec.json.Decoder(WmsCommandMessage).decode
CONFIRMED = b'{"type":"OrderConfirmed","event_id":"e-1","order_id":"O-1"}'
HEADERS = [("traceparent", b"00-abc-def-01")]


@dataclass
class FakeEvent:
    """A Faust event of a raw topic: the fetched record and its value."""

    message: Message

    @property
    def value(self) -> bytes | None:
        return self.message.value


class FakeTopic:
    """The dead-letter topic: keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def send(self, *, key: bytes | None, value: bytes, headers: Any) -> None:
        self.sent.append(DeadLetter.from_headers(headers, value, key))


def event(
    offset: int,
    value: bytes | None,
    topic: str = "erp.order-decisions",
    headers: list[tuple[str, bytes]] = HEADERS,
) -> FakeEvent:
    record = Message(topic, 0, offset, 0.0, 0, headers, b"O-1", value, None, tp=TP(topic, 0))
    return FakeEvent(record)


def order_subject(_event: FakeEvent, message: Any) -> Subject:
    """What a relayed ERP decision is about: its own id as its flow, and its order."""
    return Subject(message.event_id, order_id=message.order_id)


async def stream_of(*events: FakeEvent) -> AsyncIterator[FakeEvent]:
    for each in events:
        yield each


async def run(
    events: list[FakeEvent], decode: Any, handle: Any, describe: Any = order_subject
) -> list[DeadLetter]:
    topic = FakeTopic()
    dead_letters = DeadLetters(topic, AgentMetrics(CollectorRegistry()))  # type: ignore[arg-type]
    await handle_each(stream_of(*events), decode, handle, dead_letters, describe)
    return topic.sent


class Forwarder:
    """The relay's forward step: records what reached the inbox."""

    def __init__(self) -> None:
        self.forwarded: list[Any] = []

    async def __call__(self, _event: FakeEvent, message: Any) -> None:
        self.forwarded.append(message)


BAD_BYTES = [
    pytest.param(b'{"type":"OrderConfirmed","event_id":"e\xff","order_id":"O-1"}', id="bad utf-8"),
    pytest.param(b"not json", id="not json"),
    pytest.param(b'{"type":"OrderConfirmed","event_id":"e-2"}', id="missing order_id"),
    pytest.param(b'{"type":"OrderShredded","event_id":"e-2","order_id":"O-1"}', id="unknown type"),
    pytest.param(None, id="tombstone"),
]


@pytest.mark.parametrize("value", BAD_BYTES)
async def test_an_undecodable_erp_decision_is_dead_lettered_and_the_next_one_relayed(
    value: bytes | None,
) -> None:
    # Given an ERP decision that is not a valid decision, then a valid one
    forward = Forwarder()
    # When the relay takes both
    letters = await run([event(7, value), event(8, CONFIRMED)], DECISIONS, forward)
    # Then the first is dead-lettered as malformed with its original key, bytes and headers,
    # and a correlation id of its own (its traceparent, even one not valid, is kept as it came)
    flow_header = ("correlation_id", f"dl-{letters[0].id}".encode())
    assert [(x.reason, x.origin, x.key, x.payload, x.headers) for x in letters] == [
        ("malformed", "erp.order-decisions", b"O-1", value or b"", (*HEADERS, flow_header))
    ]
    assert letters[0].error
    # And the valid one after it is relayed
    assert [m.order_id for m in forward.forwarded] == ["O-1"]


async def test_invalid_utf8_in_an_erp_supply_record_is_dead_lettered() -> None:
    # Given a supply plan with a byte that is not UTF-8 inside its SKU
    value = b'{"type":"SafetyStockSet","event_id":"s-1","sku":"SKU\xfe","warehouse":"W","qty":1}'
    # When the supply relay takes it
    letters = await run([event(3, value, "erp.supply")], SUPPLY, Forwarder())
    # Then it is a malformed dead letter that says why
    assert [(x.reason, x.payload) for x in letters] == [("malformed", value)]
    assert "utf-8" in letters[0].error


async def test_an_unexpected_error_while_forwarding_is_dead_lettered_and_the_agent_goes_on() -> (
    None
):
    # Given a forward step that fails on the first message only
    forwarded: list[int] = []

    async def flaky(each: FakeEvent, _message: Any) -> None:
        if each.message.offset == 1:
            raise RuntimeError("the inbox went away")
        forwarded.append(each.message.offset)

    # When two valid decisions pass
    letters = await run([event(1, CONFIRMED), event(2, CONFIRMED)], DECISIONS, flaky)
    # Then the first is dead-lettered as unexpected, with the error, and the second is relayed
    assert [(x.reason, x.payload) for x in letters] == [("unexpected_error", CONFIRMED)]
    assert "the inbox went away" in letters[0].error
    assert forwarded == [2]


async def test_a_wms_command_that_is_not_utf8_is_dead_lettered_not_published() -> None:
    # Given a command whose order id holds a byte that is not UTF-8
    value = (
        b'{"type":"CancelAtWarehouse","event_id":"c-1","order_id":"O\xff","warehouse":"W",'
        b'"txn":"t-1"}'
    )
    published = Forwarder()
    # When the command agent takes it
    letters = await run(
        [event(5, value, "distgate.wms-commands")], COMMANDS, published, command_subject
    )
    # Then it is dead-lettered as malformed and nothing reaches RabbitMQ
    assert [(x.reason, x.payload) for x in letters] == [("malformed", value)]
    assert published.forwarded == []


async def test_a_stopping_worker_is_not_mistaken_for_a_bad_message() -> None:
    # Given a forward step that is cancelled because the worker stops
    async def cancelled(_event: FakeEvent, _message: Any) -> None:
        raise asyncio.CancelledError

    # When the relay is handling a valid message
    # Then the cancel passes through and nothing is dead-lettered
    topic = FakeTopic()
    dead_letters = DeadLetters(topic, AgentMetrics(CollectorRegistry()))  # type: ignore[arg-type]
    with pytest.raises(asyncio.CancelledError):
        await handle_each(
            stream_of(event(1, CONFIRMED)), DECISIONS, cancelled, dead_letters, order_subject
        )
    assert topic.sent == []


async def test_each_log_line_about_a_message_says_which_flow_and_order_it_was() -> None:
    # Given a forward step that fails on every message
    async def failing(_event: FakeEvent, _message: Any) -> None:
        raise RuntimeError("the inbox went away")

    flow = [("correlation_id", b"erp-flow-9")]
    # When the relay takes a malformed decision of ERP's flow erp-flow-9, then a valid one
    # of no flow, which fails
    with json_log("agents-0") as log:
        letters = await run([event(1, b"{", headers=flow), event(2, CONFIRMED)], DECISIONS, failing)
    # Then the malformed one's line names its flow, and the failed one's lines its own id
    # (its flow from here on) and its order, as its dead letter does
    said = [(ln["logger"], ln.get("correlation_id"), ln.get("order_id")) for ln in log.lines()]
    assert said == [
        ("agents.deadletters", "erp-flow-9", None),
        ("agents.each_message", "e-1", "O-1"),
        ("agents.deadletters", "e-1", "O-1"),
    ]
    assert [letter.reason for letter in letters] == ["malformed", "unexpected_error"]
    assert dict(letters[1].headers)["correlation_id"] == b"e-1"


async def test_a_wms_command_log_line_names_its_order_and_warehouse() -> None:
    # Given a command that RabbitMQ cannot take, for order O-1 at DC-EAST in flow f-7
    value = (
        b'{"type":"CancelAtWarehouse","event_id":"c-1","order_id":"O-1","warehouse":"DC-EAST",'
        b'"txn":"t-1","correlation_id":"f-7"}'
    )

    async def unreachable(_event: FakeEvent, _command: Any) -> None:
        logging.getLogger("agents.wms_commands").warning("not confirmed; retrying")
        raise RuntimeError("RabbitMQ went away")

    # When the command agent takes it
    with json_log("agents-0") as log:
        await run(
            [event(5, value, "distgate.wms-commands")], COMMANDS, unreachable, command_subject
        )
    # Then each line about it names its flow, order and warehouse
    assert {
        (ln.get("correlation_id"), ln.get("order_id"), ln.get("warehouse")) for ln in log.lines()
    } == {("f-7", "O-1", "DC-EAST")}

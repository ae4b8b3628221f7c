"""Relays ERP's topics onto our inboxes, re-keyed, whatever partitioning ERP chose.

A table's input must be keyed (and partitioned) like the table; ERP's topics are
ERP's, so each message is validated and forwarded with its original bytes and
headers under the key the receiving table is partitioned by. ERP's correlation id, if
its record has one, else the message's `event_id`, names the flow from here on.
"""

from collections.abc import Callable, Mapping
from typing import Any

import faust
import msgspec
from faust.types import EventT, StreamT

from agents.deadletters import DeadLetters
from agents.each_message import handle_each
from agents.runtime import spans
from agents.runtime.correlated import Incoming, incoming
from agents.runtime.log_context import Subject
from agents.runtime.output import raw_topic
from protocols.erp import OrderDecision, SupplyMessage
from protocols.topics import Topics, TopicSpec
from protocols.trace_headers import FLOW_HEADERS, Header

_supply = msgspec.json.Decoder(SupplyMessage)
_decisions = msgspec.json.Decoder(OrderDecision)


def register_relay(
    app: faust.App,
    source: TopicSpec,
    target: TopicSpec,
    decode: Callable[[bytes], Any],
    key_of: Callable[[Any], str],
    dead_letters: DeadLetters,
    subject_of: Callable[[Any, str], Subject],
) -> None:
    """Forward every valid message of `source` to `target`, keyed by `key_of(message)`.

    `subject_of(message, correlation_id)` is what its log lines say it is about.
    """
    inbox = raw_topic(app, target)

    async def forward(event: EventT[bytes], message: Any) -> None:
        original = _pairs(event.message.headers)
        sender = incoming(original)
        correlation_id = _flow_id(sender, message)
        with spans.traced(f"relay {source.name}", correlation_id, sender.parent) as flow:
            headers = [h for h in original if h[0] not in FLOW_HEADERS] + flow.headers
            await inbox.send(key=key_of(message).encode(), value=event.value, headers=headers)

    def describe(event: EventT[bytes], message: Any) -> Subject:
        return subject_of(message, _flow_id(incoming(event.message.headers), message))

    @app.agent(raw_topic(app, source), name=f"relay-{source.name}", concurrency=1)
    async def relay(stream: StreamT[bytes]) -> None:
        await handle_each(stream.events(), decode, forward, dead_letters, describe)


def _flow_id(sender: Incoming, message: Any) -> str:
    """ERP's correlation id of the record, else the message's own event id."""
    return sender.correlation_id or str(message.event_id)


def _supply_subject(message: SupplyMessage, correlation_id: str) -> Subject:
    return Subject(correlation_id, sku=message.sku, warehouse=message.warehouse)


def _decision_subject(message: OrderDecision, correlation_id: str) -> Subject:
    return Subject(correlation_id, order_id=message.order_id)


def _pairs(headers: list[tuple[str, bytes]] | Mapping[str, bytes] | None) -> list[Header]:
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def register_erp_relays(app: faust.App, topics: Topics, dead_letters: DeadLetters) -> None:
    """ERP supply plans to the stock inbox by SKU; ERP decisions to the order inbox by order."""
    register_relay(
        app,
        topics.erp_supply,
        topics.stock_inbox,
        _supply.decode,
        lambda m: m.sku,
        dead_letters,
        _supply_subject,
    )
    register_relay(
        app,
        topics.erp_order_decisions,
        topics.order_inbox,
        _decisions.decode,
        lambda m: m.order_id,
        dead_letters,
        _decision_subject,
    )

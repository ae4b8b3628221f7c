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
from agents.runtime.correlated import incoming
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
) -> None:
    """Forward every valid message of `source` to `target`, keyed by `key_of(message)`."""
    inbox = raw_topic(app, target)

    async def forward(event: EventT[bytes], message: Any) -> None:
        original = _pairs(event.message.headers)
        sender = incoming(original)
        correlation_id = sender.correlation_id or message.event_id
        with spans.traced(f"relay {source.name}", correlation_id, sender.parent) as flow:
            headers = [h for h in original if h[0] not in FLOW_HEADERS] + flow.headers
            await inbox.send(key=key_of(message).encode(), value=event.value, headers=headers)

    @app.agent(raw_topic(app, source), name=f"relay-{source.name}", concurrency=1)
    async def relay(stream: StreamT[bytes]) -> None:
        await handle_each(stream.events(), decode, forward, dead_letters)


def _pairs(headers: list[tuple[str, bytes]] | Mapping[str, bytes] | None) -> list[Header]:
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def register_erp_relays(app: faust.App, topics: Topics, dead_letters: DeadLetters) -> None:
    """ERP supply plans to the stock inbox by SKU; ERP decisions to the order inbox by order."""
    register_relay(
        app, topics.erp_supply, topics.stock_inbox, _supply.decode, lambda m: m.sku, dead_letters
    )
    register_relay(
        app,
        topics.erp_order_decisions,
        topics.order_inbox,
        _decisions.decode,
        lambda m: m.order_id,
        dead_letters,
    )

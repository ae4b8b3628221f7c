"""Every worker's index of recent flows by correlation id, for `GET /v1/admin/trace/{id}`.

Records are indexed by their `correlation_id` header; an ERP decision or a WMS
confirmation joins the flow of its order (learned from the order's own records), as
ERP knows nothing of our correlation ids and a WMS need not echo them. Memory is
bounded by bytes: the flows seen longest ago are forgotten first, and one flow keeps
at most MAX_PER_FLOW messages (a hot SKU's stock changes can be many).
"""

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field

import msgspec
from aiokafka import ConsumerRecord

from protocols.deadletters import HEADER_REASON
from protocols.topics import CRM_ORDER_STATUS, INVENTORY_EVENTS, ORDERS_EVENTS, Topics
from protocols.trace_headers import (
    CE_ID,
    CE_SOURCE,
    CE_TYPE,
    CORRELATION_ID,
    TRACEPARENT,
    cloud_event_source,
    trace_id_of,
)
from protocols.traces import MessageKind, Trace, TracedMessage

BUDGET_BYTES = 32 * 1024 * 1024
MAX_PER_FLOW = 1_000
ENTRY_OVERHEAD = 600  # bytes of the Python objects around one message (struct, strings)
FLOW_OVERHEAD = 400  # and around one flow (its list, the dict slots, the order's entry)


class _Head(msgspec.Struct):
    """The few fields the index reads of any value; the rest is skipped, not decoded."""

    type: str | None = None
    event_id: str | None = None
    order_id: str | None = None


_head = msgspec.json.Decoder(_Head)

_INBOX_KINDS: dict[str, MessageKind] = {
    "SubmitOrder": "http_command",
    "CancelOrder": "http_command",
    "OrderConfirmed": "erp_decision",
    "OrderCreditHold": "erp_decision",
    "OrderCreditReleased": "erp_decision",
    "OrderRejected": "erp_decision",
    "OrderInvoiced": "erp_decision",
    "PickConfirmed": "wms_confirmation",
    "ShipConfirmed": "wms_confirmation",
}
"""What of the order inbox is traced; the stock side's answers and timers are internal."""
_OUTPUT_KINDS: dict[str, MessageKind] = {
    ORDERS_EVENTS.name: "order_event",
    CRM_ORDER_STATUS.name: "status_change",
    INVENTORY_EVENTS.name: "stock_change",
}
_BY_ORDER: frozenset[MessageKind] = frozenset({"erp_decision", "wms_confirmation"})
_NAMES_ORDER: frozenset[MessageKind] = frozenset({"http_command", "order_event"})
"""Kinds whose correlation id is the order's own: they teach the index the order's flow."""


@dataclass(frozen=True)
class TracedTopics:
    """Which topic a record comes from, by name: the deployment's names for each kind."""

    order_inbox: str
    orders_events: str
    crm_order_status: str
    inventory_events: str
    wms_commands: str
    dead_letters: str
    source_prefix: bytes  # `ce_source` of this deployment's records on the shared topics

    def names(self) -> tuple[str, ...]:
        """Every topic the index reads."""
        return (
            self.order_inbox, self.orders_events, self.crm_order_status,
            self.inventory_events, self.wms_commands, self.dead_letters,
        )  # fmt: skip


def traced_topics(topics: Topics, app_id: str) -> TracedTopics:
    """The names of a deployment's traced topics."""
    return TracedTopics(
        order_inbox=topics.order_inbox.name,
        orders_events=topics.orders_events.name,
        crm_order_status=topics.crm_order_status.name,
        inventory_events=topics.inventory_events.name,
        wms_commands=topics.wms_commands.name,
        dead_letters=topics.dead_letters.name,
        source_prefix=cloud_event_source(app_id, ""),
    )


@dataclass
class _Flow:
    messages: list[TracedMessage] = field(default_factory=list)
    truncated: bool = False


class TraceIndex:
    """The most recently active flows by correlation id, within `budget_bytes`."""

    def __init__(self, topics: TracedTopics, budget_bytes: int = BUDGET_BYTES) -> None:
        self.topics = topics
        self.budget_bytes = budget_bytes
        self._flows: OrderedDict[str, _Flow] = OrderedDict()
        self._orders: dict[str, str] = {}  # order id -> its flow's correlation id
        self._flow_orders: dict[str, str] = {}  # and back, to forget both together
        self._bytes = 0

    def add_record(self, record: ConsumerRecord) -> None:
        """Index one record of a traced topic, if it belongs to a flow of this deployment."""
        said: dict[str, bytes] = dict(record.headers or ())
        source = said.get(CE_SOURCE)
        if source is not None and not source.startswith(self.topics.source_prefix):
            return  # another deployment's, on a topic deployments share
        kind, head = self._kind(record, said)
        if kind is None:
            return
        correlation_id = _text(said.get(CORRELATION_ID))
        if kind in _BY_ORDER and head.order_id in self._orders:
            correlation_id = self._orders[head.order_id]
        if not correlation_id:
            return
        key = record.key.decode("utf-8", "replace") if record.key is not None else None
        message = TracedMessage(
            at=dt.datetime.fromtimestamp(record.timestamp / 1000, dt.UTC),
            kind=kind, topic=record.topic, partition=record.partition, offset=record.offset,
            key=key, type=head.type, event_id=head.event_id, order_id=head.order_id,
            traceparent=_text(said.get(TRACEPARENT)), reason=_text(said.get(HEADER_REASON)),
        )  # fmt: skip
        self.add(correlation_id, message)

    def add(self, correlation_id: str, message: TracedMessage) -> None:
        """Append a message to its flow; forget the least recently active flows if over."""
        found = self._flows.pop(correlation_id, None)
        if found is None:
            found = _Flow()
            self._bytes += FLOW_OVERHEAD + len(correlation_id)
        self._flows[correlation_id] = found  # the most recently active is last
        if message.kind in _NAMES_ORDER and message.order_id:
            self._remember_order(message.order_id, correlation_id)
        if len(found.messages) >= MAX_PER_FLOW:
            found.truncated = True
        else:
            found.messages.append(message)
            self._bytes += _cost(message)
        while self._bytes > self.budget_bytes and len(self._flows) > 1:
            self._forget(next(iter(self._flows)))

    def trace(self, correlation_id: str) -> Trace | None:
        """The flow's messages in time order, or None when none is known."""
        found = self._flows.get(correlation_id)
        if found is None:
            return None
        ordered = sorted(found.messages, key=lambda m: (m.at, m.topic, m.offset))
        return Trace(
            correlation_id=correlation_id,
            trace_id=trace_id_of(correlation_id),
            messages=tuple(ordered),
            truncated=found.truncated,
        )

    @property
    def capacity(self) -> int:
        """At most how many messages the budget holds (each costs ENTRY_OVERHEAD and more)."""
        return self.budget_bytes // ENTRY_OVERHEAD

    @property
    def held_bytes(self) -> int:
        """Roughly the bytes the index holds now (at most the budget, or one flow)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._flows)

    def _kind(
        self, record: ConsumerRecord, said: dict[str, bytes]
    ) -> tuple[MessageKind | None, _Head]:
        """What the record is, and its type, id and order: from its CloudEvents headers if it
        has them (the busy output topics), else from the few fields decoded of its value."""
        topic, topics = record.topic, self.topics
        if topic == topics.dead_letters:
            return "dead_letter", _Head()
        kind = _OUTPUT_KINDS.get(topic) if topic != topics.order_inbox else None
        if kind is None and topic == topics.wms_commands:
            kind = "wms_command"
        ce_type = said.get(CE_TYPE)
        if kind is not None and ce_type is not None:
            order_id = record.key.decode("utf-8", "replace") if kind == "order_event" else None
            return kind, _Head(_text(ce_type), _text(said.get(CE_ID)), order_id)
        try:
            head = _head.decode(record.value or b"")
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None, _Head()
        if topic == topics.order_inbox:
            return _INBOX_KINDS.get(head.type or ""), head
        return kind, head

    def _remember_order(self, order_id: str, correlation_id: str) -> None:
        if order_id not in self._orders:
            self._orders[order_id] = correlation_id
            self._flow_orders[correlation_id] = order_id
            self._bytes += 2 * len(order_id)

    def _forget(self, correlation_id: str) -> None:
        gone = self._flows.pop(correlation_id)
        self._bytes -= FLOW_OVERHEAD + len(correlation_id) + sum(map(_cost, gone.messages))
        order_id = self._flow_orders.pop(correlation_id, None)
        if order_id is not None:
            self._orders.pop(order_id, None)
            self._bytes -= 2 * len(order_id)


def _cost(message: TracedMessage) -> int:
    """Roughly the bytes one indexed message holds."""
    m = message
    return (
        ENTRY_OVERHEAD + len(m.topic) + len(m.key or "") + len(m.type or "")
        + len(m.event_id or "") + len(m.order_id or "") + len(m.traceparent or "")
    )  # fmt: skip


def _text(value: bytes | None) -> str | None:
    """A header's value as text, cut to 256 characters; None when absent."""
    return None if value is None else value[:256].decode("utf-8", "replace")

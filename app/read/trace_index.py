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
from protocols.topics import Topics
from protocols.trace_headers import CORRELATION_ID, TRACEPARENT, trace_id_of
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

    def names(self) -> tuple[str, ...]:
        """Every topic the index reads."""
        return (
            self.order_inbox, self.orders_events, self.crm_order_status,
            self.inventory_events, self.wms_commands, self.dead_letters,
        )  # fmt: skip


def traced_topics(topics: Topics) -> TracedTopics:
    """The names of a deployment's traced topics."""
    return TracedTopics(
        order_inbox=topics.order_inbox.name,
        orders_events=topics.orders_events.name,
        crm_order_status=topics.crm_order_status.name,
        inventory_events=topics.inventory_events.name,
        wms_commands=topics.wms_commands.name,
        dead_letters=topics.dead_letters.name,
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
        """Index one record of a traced topic, if it belongs to a flow."""
        headers = record.headers or ()
        kind, head = self._kind(record)
        if kind is None:
            return
        correlation_id = _header(headers, CORRELATION_ID)
        if kind in _BY_ORDER and head.order_id in self._orders:
            correlation_id = self._orders[head.order_id]
        if not correlation_id:
            return
        key = record.key.decode("utf-8", "replace") if record.key is not None else None
        message = TracedMessage(
            at=dt.datetime.fromtimestamp(record.timestamp / 1000, dt.UTC),
            kind=kind, topic=record.topic, partition=record.partition, offset=record.offset,
            key=key, type=head.type, event_id=head.event_id, order_id=head.order_id,
            traceparent=_header(headers, TRACEPARENT),
            reason=_header(headers, HEADER_REASON) if kind == "dead_letter" else None,
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
    def held_bytes(self) -> int:
        """Roughly the bytes the index holds now (at most the budget, or one flow)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._flows)

    def _kind(self, record: ConsumerRecord) -> tuple[MessageKind | None, _Head]:
        topic, topics = record.topic, self.topics
        if topic == topics.dead_letters:
            return "dead_letter", _Head()
        try:
            head = _head.decode(record.value or b"")
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None, _Head()
        if topic == topics.order_inbox:
            return _INBOX_KINDS.get(head.type or ""), head
        kinds: dict[str, MessageKind] = {
            topics.orders_events: "order_event",
            topics.crm_order_status: "status_change",
            topics.inventory_events: "stock_change",
            topics.wms_commands: "wms_command",
        }
        return kinds.get(topic), head

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
    texts = (message.key, message.type, message.event_id, message.order_id, message.traceparent)
    return ENTRY_OVERHEAD + len(message.topic) + sum(len(t) for t in texts if t)


def _header(
    headers: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]], name: str
) -> str | None:
    """The first header of that name as text, cut to 256 characters; None when absent."""
    for key, value in headers:
        if key == name and value is not None:
            return value.decode("utf-8", "replace")[:256]
    return None

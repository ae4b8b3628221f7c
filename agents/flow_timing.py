"""Where each flow ends, and the moment it began: read from the record and the applied outcome.

- WMS -> ATP ends when the stock agent applied a WMS stock fact; it began when the
  bridge put it into Kafka (the record's timestamp), right after RabbitMQ gave it over.
- Order -> reserved, ERP decision wait and release -> pick -> ship end in the order
  agent, and begin at an earlier status of the order's own history: taken (SUBMITTED),
  reserved (RESERVED or BACKORDERED), RELEASED.
- Order -> released ends when RabbitMQ confirmed a Release into its WMS's queue; it
  began when the order agent produced it (the command record's timestamp), which is
  when it applied the decision. `agents.wms_commands` and the redeliverer observe it.

A redelivered input (`duplicate`) ends nothing: its flow was observed the first time.
"""

import datetime as dt
from collections.abc import Iterable, Iterator

import msgspec
from faust.types import Message

from agents.runtime.flows import Flow, FlowTimer
from protocols.orders import OrderStatus
from tables.order.apply import OrderApplied
from tables.order.value import StatusEntry
from tables.stock.apply import Applied

WMS_STOCK_FACTS = frozenset({"StockReceived", "StockAdjusted", "StockHoldChanged", "StockCounted"})
ERP_DECISIONS = frozenset(
    {"OrderConfirmed", "OrderCreditHold", "OrderCreditReleased", "OrderRejected"}
)
_RESERVED = frozenset({OrderStatus.RESERVED, OrderStatus.BACKORDERED})
_RESERVATION_DECIDED = _RESERVED | {OrderStatus.REJECTED}
_ERP_DECIDED = frozenset({OrderStatus.CONFIRMED, OrderStatus.CREDIT_HOLD, OrderStatus.REJECTED})
_SHIPPING = frozenset({OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED})

Latency = tuple[Flow, float]


class _Tagged(msgspec.Struct):
    """Only the `type` tag of an inbox message: what kind it is, without decoding it all."""

    type: str = ""


_tag_decoder = msgspec.json.Decoder(_Tagged)


def message_type(value: bytes) -> str:
    """The `type` tag of a JSON inbox message; "" when it has none or is no JSON object."""
    try:
        return _tag_decoder.decode(value).type
    except msgspec.DecodeError:
        return ""


def wms_to_atp(value: bytes, produced_at: float, applied_at: float) -> Latency | None:
    """The WMS -> ATP latency of a stock inbox record, if it is a WMS stock fact."""
    if message_type(value) not in WMS_STOCK_FACTS:
        return None
    return Flow.WMS_TO_ATP, applied_at - produced_at


def order_latencies(
    history: Iterable[StatusEntry], new: frozenset[str], at: dt.datetime, from_erp: bool
) -> list[Latency]:
    """The flows that the history entries with event ids `new` end, applied at `at`."""
    earlier: list[StatusEntry] = []
    latencies: list[Latency] = []
    for entry in history:
        if entry.event_id in new:
            latencies.extend(_ended_by(entry.status, earlier, at, from_erp))
        earlier.append(entry)
    return latencies


def _ended_by(
    status: OrderStatus, earlier: list[StatusEntry], at: dt.datetime, from_erp: bool
) -> Iterator[Latency]:
    statuses = {entry.status for entry in earlier}
    if status in _RESERVATION_DECIDED and statuses == {OrderStatus.SUBMITTED}:
        yield Flow.ORDER_TO_RESERVED, (at - earlier[0].at).total_seconds()
    reserved = [entry for entry in earlier if entry.status in _RESERVED]
    if from_erp and status in _ERP_DECIDED and reserved and not statuses & _ERP_DECIDED:
        yield Flow.ERP_DECISION_WAIT, (at - reserved[0].at).total_seconds()
    released = [entry for entry in earlier if entry.status is OrderStatus.RELEASED]
    if status in _SHIPPING and released:
        yield Flow.RELEASE_TO_SHIP, (at - released[-1].at).total_seconds()


class StockFlows:
    """Observes, for the stock actor, each WMS stock fact it applied."""

    def __init__(self, timer: FlowTimer) -> None:
        self.timer = timer

    def __call__(self, record: Message, outcome: Applied, at: dt.datetime) -> None:
        """Observe WMS -> ATP if the record was a WMS fact applied for the first time."""
        if outcome.duplicate:
            return
        latency = wms_to_atp(record.value or b"", record.timestamp, at.timestamp())
        if latency is not None:
            self.timer.observe(*latency)


class OrderFlows:
    """Observes, for the order actor, the flows each applied message ended."""

    def __init__(self, timer: FlowTimer) -> None:
        self.timer = timer

    def __call__(self, record: Message, outcome: OrderApplied, at: dt.datetime) -> None:
        """Observe the flows the message's new statuses end."""
        if outcome.duplicate or not outcome.events:
            return
        new = frozenset(event.event_id for event in outcome.events)
        from_erp = message_type(record.value or b"") in ERP_DECISIONS
        for flow, seconds in order_latencies(outcome.order.history, new, at, from_erp):
            self.timer.observe(flow, seconds)

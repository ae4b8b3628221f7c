"""Flow timing: which flow an applied message ends, how long it took, and what breaches its SLA."""

import datetime as dt
from types import SimpleNamespace
from typing import cast

import msgspec
import pytest
from faust.types import Message
from prometheus_client import CollectorRegistry

from agents.flow_timing import OrderFlows, StockFlows, wms_to_atp
from agents.runtime.flows import DEFAULT_SLAS, Flow, FlowTimer, parse_slas, register_objectives
from app.errors import ConfigurationError
from app.settings import Settings
from protocols.inventory import StockReceived
from protocols.reservations import ReserveLine
from protocols.topics import OrderInboxMessage
from tables.order.apply import apply
from tables.order.value import Order
from tables.stock.apply import Applied
from tables.stock.value import SkuStock
from tests.unit.test_orders_support import (
    EAST,
    NOW,
    WEST,
    confirmed,
    erp_rejected,
    picked,
    reserved,
    shipped,
    submit,
    unreservable,
)


class Flows:
    """A flow timer on its own registry, read back as the scrape would show it."""

    def __init__(self, slas: dict[Flow, float] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.timer = FlowTimer(self.registry, slas or DEFAULT_SLAS)

    def count(self, flow: Flow) -> float:
        return self._sample("distgate_flow_latency_seconds_count", flow)

    def total(self, flow: Flow) -> float:
        return self._sample("distgate_flow_latency_seconds_sum", flow)

    def breaches(self, flow: Flow) -> float:
        return self._sample("distgate_sla_breaches_total", flow)

    def _sample(self, name: str, flow: Flow) -> float:
        value = self.registry.get_sample_value(name, {"flow": flow})
        assert value is not None, f"{name}{{flow={flow}}} is not exposed"
        return value


def record(message: msgspec.Struct, produced_at: float = 0.0) -> Message:
    """An inbox record as the actor receives it: its bytes and its Kafka timestamp."""
    return cast(Message, SimpleNamespace(value=msgspec.json.encode(message), timestamp=produced_at))


class OrderDay:
    """One order fed message by message through the real rules, each at its own second."""

    def __init__(self, flows: Flows, auto: bool = False) -> None:
        self.observe = OrderFlows(flows.timer)
        self.order: Order | None = None
        self.auto = auto

    def at(self, second: int, message: OrderInboxMessage) -> None:
        now = NOW + dt.timedelta(seconds=second)
        offset = 0 if self.order is None else self.order.last_offset + 1
        outcome = apply(self.order, message, offset, now, self.auto)
        self.order = outcome.order
        self.observe(record(message), outcome, now)


def test_every_order_flow_is_timed_from_the_status_that_began_it() -> None:
    # Given an order taken at 0 s, its lines answered at 1 s and 2 s
    flows = Flows()
    day = OrderDay(flows)
    day.at(0, submit())
    day.at(1, reserved(1, "SKU-1", 2, EAST))
    day.at(2, reserved(2, "SKU-2", 3, WEST))
    # When ERP confirms at 12 s (the order is released at once), and it ships from both
    # warehouses at 30 s and 50 s
    day.at(12, confirmed())
    day.at(20, picked(EAST, (1, "SKU-1", 2, 2)))
    day.at(25, picked(WEST, (2, "SKU-2", 3, 3), txn="P-2"))
    day.at(30, shipped(EAST, (1, "SKU-1", 2)))
    day.at(50, shipped(WEST, (2, "SKU-2", 3), txn="S-2"))
    # Then order -> reserved took 2 s, the ERP decision waited 10 s
    assert (flows.count(Flow.ORDER_TO_RESERVED), flows.total(Flow.ORDER_TO_RESERVED)) == (1, 2)
    assert (flows.count(Flow.ERP_DECISION_WAIT), flows.total(Flow.ERP_DECISION_WAIT)) == (1, 10)
    # And each shipment is timed from the release: 18 s and 38 s
    assert (flows.count(Flow.RELEASE_TO_SHIP), flows.total(Flow.RELEASE_TO_SHIP)) == (2, 56)
    # And the ERP decision wait breached its 30 s SLA never, order -> reserved (1 s) once
    assert flows.breaches(Flow.ERP_DECISION_WAIT) == 0
    assert flows.breaches(Flow.ORDER_TO_RESERVED) == 1
    # And nothing the order agent applied is WMS -> ATP or a sent Release
    assert flows.count(Flow.WMS_TO_ATP) == flows.count(Flow.ORDER_TO_RELEASED) == 0


def test_a_redelivered_message_ends_no_flow_again() -> None:
    # Given an order whose last answer made it reserved
    flows = Flows()
    day = OrderDay(flows)
    day.at(0, submit())
    day.at(1, reserved(1, "SKU-1", 2, EAST))
    day.at(2, reserved(2, "SKU-2", 3, WEST))
    # When the same answer arrives again
    day.at(3, reserved(2, "SKU-2", 3, WEST))
    # Then order -> reserved was observed once
    assert flows.count(Flow.ORDER_TO_RESERVED) == 1


def test_a_rejection_for_stock_is_a_reservation_decision_and_one_by_erp_is_its_decision() -> None:
    # Given two orders: one no line of which can be reserved, one ERP rejects once reserved
    flows = Flows()
    no_stock = OrderDay(flows)
    no_stock.at(0, submit())
    no_stock.at(1, unreservable(1, "SKU-1", 2))
    no_stock.at(3, unreservable(2, "SKU-2", 3))
    blocked = OrderDay(flows)
    blocked.at(0, submit())
    blocked.at(1, reserved(1, "SKU-1", 2, EAST))
    blocked.at(2, reserved(2, "SKU-2", 3, WEST))
    blocked.at(7, erp_rejected())
    # Then both are timed to their reservation decision (3 s and 2 s)
    assert (flows.count(Flow.ORDER_TO_RESERVED), flows.total(Flow.ORDER_TO_RESERVED)) == (2, 5)
    # And only ERP's rejection is an ERP decision, after 5 s
    assert (flows.count(Flow.ERP_DECISION_WAIT), flows.total(Flow.ERP_DECISION_WAIT)) == (1, 5)


def test_automatic_confirmation_is_no_erp_decision_wait() -> None:
    # Given ERP confirmation set to auto
    flows = Flows()
    day = OrderDay(flows, auto=True)
    # When the order is reserved (and so confirmed and released at once)
    day.at(0, submit())
    day.at(1, reserved(1, "SKU-1", 2, EAST))
    day.at(2, reserved(2, "SKU-2", 3, WEST))
    # Then order -> reserved is timed, and no ERP decision was waited for
    assert flows.count(Flow.ORDER_TO_RESERVED) == 1
    assert flows.count(Flow.ERP_DECISION_WAIT) == 0


def test_wms_to_atp_is_timed_for_wms_stock_facts_only() -> None:
    # Given a WMS receipt produced by the bridge at 100.0 and applied at 100.25
    receipt = StockReceived(
        event_id="wms:DC-EAST:R-1:1", sku="SKU-1", warehouse=EAST, qty=5, occurred_at=NOW
    )
    reserve = ReserveLine(event_id="SO-1:1:reserve", sku="SKU-1", order_id="SO-1", line_no=1, qty=1)
    # Then the receipt ends WMS -> ATP after 0.25 s; a reservation command, or bytes that
    # are no JSON, end nothing
    assert wms_to_atp(msgspec.json.encode(receipt), 100.0, 100.25) == (Flow.WMS_TO_ATP, 0.25)
    assert wms_to_atp(msgspec.json.encode(reserve), 100.0, 100.25) is None
    assert wms_to_atp(b"\xff not json", 100.0, 100.25) is None
    # And the stock actor's observer skips a redelivered fact
    flows = Flows()
    observe = StockFlows(flows.timer)
    applied_at = dt.datetime.fromtimestamp(101.5, dt.UTC)
    first = Applied(stock=SkuStock(sku="SKU-1"), changes=(), duplicate=False)
    observe(record(receipt, 100.0), first, applied_at)
    observe(record(receipt, 100.0), Applied(SkuStock(sku="SKU-1"), (), True), applied_at)
    assert (flows.count(Flow.WMS_TO_ATP), flows.total(Flow.WMS_TO_ATP)) == (1, 1.5)
    assert flows.breaches(Flow.WMS_TO_ATP) == 1


def test_an_observation_above_its_sla_is_a_breach_and_clocks_apart_are_no_negative() -> None:
    # Given WMS -> ATP with an SLA of 0.5 s
    flows = Flows({**DEFAULT_SLAS, Flow.WMS_TO_ATP: 0.5})
    # When it takes 0.5 s, 0.75 s, and "-0.01 s" (the bridge's clock a little ahead)
    for seconds in (0.5, 0.75, -0.01):
        flows.timer.observe(Flow.WMS_TO_ATP, seconds)
    # Then only 0.75 s breached, and the negative one counts as 0
    assert flows.breaches(Flow.WMS_TO_ATP) == 1
    assert flows.total(Flow.WMS_TO_ATP) == 1.25
    # And every other flow is exposed at zero before its first observation
    assert [flows.count(flow) for flow in Flow if flow is not Flow.WMS_TO_ATP] == [0, 0, 0, 0]


def test_slas_have_defaults_and_are_set_per_flow() -> None:
    assert parse_slas("") == DEFAULT_SLAS
    assert DEFAULT_SLAS[Flow.WMS_TO_ATP] == DEFAULT_SLAS[Flow.ORDER_TO_RESERVED] == 1.0
    slas = parse_slas("wms_to_atp=0.25, release_to_ship=14400")
    assert (slas[Flow.WMS_TO_ATP], slas[Flow.RELEASE_TO_SHIP]) == (0.25, 14400)
    assert slas[Flow.ORDER_TO_RESERVED] == 1.0


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("wms_to_ATP=1", "is not flow=seconds"),
        ("wms_to_atp", "is not flow=seconds"),
        ("wms_to_atp=fast", "must be a number"),
        ("wms_to_atp=0", "must be a number in (0, "),
        ("wms_to_atp=nan", "must be a number"),
    ],
)
def test_a_bad_sla_is_refused_saying_which(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match="DISTGATE_FLOW_SLAS entry") as refused:
        parse_slas(spec)
    assert says in str(refused.value)


def test_the_objectives_are_exposed_as_a_gauge() -> None:
    registry = CollectorRegistry()
    register_objectives(registry, parse_slas("order_to_released=3"))
    sample = registry.get_sample_value
    assert sample("distgate_flow_sla_seconds", {"flow": "order_to_released"}) == 3
    assert sample("distgate_flow_sla_seconds", {"flow": "wms_to_atp"}) == 1


def test_the_settings_take_slas_from_the_environment_and_refuse_a_bad_one() -> None:
    settings = Settings.from_env({"DISTGATE_FLOW_SLAS": "order_to_reserved=0.5"})
    assert settings.flow_slas[Flow.ORDER_TO_RESERVED] == 0.5
    with pytest.raises(ConfigurationError, match="DISTGATE_FLOW_SLAS entry 'atp=1'"):
        Settings.from_env({"DISTGATE_FLOW_SLAS": "atp=1"})

"""The order state machine as hypothesis properties: random inbox traffic, checked step by step."""

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderInvoiced,
    ErpOrderRejected,
)
from protocols.http import OrderLineRequest
from protocols.order_commands import CancelOrder, SubmitOrder
from protocols.orders import (
    LineStatus,
    OrderBackorderFilled,
    OrderEvent,
    OrderPickedShort,
    OrderShipmentDispatched,
    OrderStatus,
    OrderStepBase,
)
from protocols.reservations import (
    AllocateLine,
    BackorderFilled,
    Deallocate,
    Fill,
    FillBackorder,
    LineReserved,
    LineUnreservable,
    RecordShipment,
    RecordShortPick,
    ReleaseReservation,
    ReserveLine,
    StockCommandMessage,
)
from protocols.topics import OrderInboxMessage, Topics, decoder_for
from protocols.wms import NumberedLine, PickLine
from protocols.wms_events import PickConfirmed, ShipConfirmed
from tables.batch import Failed
from tables.order.apply import OrderApplied
from tables.order.value import Order, OrderLine, status_reached
from tests.support.tables import NOT_REFUSALS, OrderTable

S = OrderStatus
ORDER = "SO-P"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
WAREHOUSES = ("DC-A", "DC-B")
SEQUENCES = settings(max_examples=500, deadline=None)

EDGES: dict[OrderStatus | None, set[OrderStatus]] = {
    None: {S.SUBMITTED},
    S.SUBMITTED: {S.RESERVED, S.BACKORDERED, S.REJECTED, S.CANCELLED},
    S.RESERVED: {S.CREDIT_HOLD, S.CONFIRMED, S.REJECTED, S.CANCELLED},
    S.BACKORDERED: {S.CREDIT_HOLD, S.CONFIRMED, S.REJECTED, S.CANCELLED},
    S.CREDIT_HOLD: {S.CONFIRMED, S.REJECTED, S.CANCELLED},
    S.CONFIRMED: {S.RELEASED, S.CANCELLED, S.REJECTED},
    S.RELEASED: {S.PICKED, S.CONFIRMED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED, S.REJECTED},
    S.PICKED: {S.RELEASED, S.CONFIRMED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED, S.REJECTED},
    S.PARTIALLY_SHIPPED: {S.SHIPPED},
    S.SHIPPED: {S.INVOICED},
}
"""The lifecycle of CONTRACT 5 and 8, written out independently of the code under test."""
BACK = {(S.PICKED, S.RELEASED), (S.RELEASED, S.CONFIRMED), (S.PICKED, S.CONFIRMED)}
"""Edges back: a backorder filled again is released (again), a wholly short pick waits for stock."""
NOTHING_OPEN = (S.CANCELLED, S.REJECTED, S.SHIPPED, S.INVOICED)
"""Statuses that give a backorder fill straight back."""

_ENCODER = msgspec.json.Encoder()
TOPICS = Topics.for_app("distgate")
_EVENTS, _CRM = decoder_for(TOPICS.orders_events), decoder_for(TOPICS.crm_order_status)
_STOCK, _WMS = decoder_for(TOPICS.stock_inbox), decoder_for(TOPICS.wms_commands)


@dataclass
class Held:
    """What the stock side holds for one order line, as its commands leave it."""

    reserved: int = 0
    allocated: int = 0


@dataclass
class Traffic:
    """The partition as delivered so far, the order's rows, and the stock side's ledger."""

    auto_confirm: bool
    offset: int = 0
    accepted: list[tuple[int, OrderInboxMessage]] = field(default_factory=list)
    ledger: dict[int, Held] = field(default_factory=dict)
    refills: list[FillBackorder] = field(default_factory=list)  # sent, maybe not yet answered
    published: dict[str, OrderEvent] = field(default_factory=dict)  # every event, by its id
    shorts: dict[str, int] = field(default_factory=dict)  # short units told to stock, by command
    filled: int = 0  # backordered units the order took from BackorderFilled answers
    table: OrderTable = field(init=False)

    def __post_init__(self) -> None:
        self.table = OrderTable(ORDER, self.auto_confirm)

    @property
    def order(self) -> Order | None:
        """The order as its table stores it."""
        return self.table.order


# --- messages, chosen with an eye on the order so that deep states are reached ------------

T = TypeVar("T")


class Dice:
    """Choices read off one drawn integer; 0 picks the first option everywhere (shrinks well)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def pick(self, options: Sequence[T]) -> T:
        """One of `options`."""
        self.seed, index = divmod(self.seed, len(options))
        return options[index]

    def upto(self, low: int, high: int) -> int:
        """An integer in low..high."""
        return self.pick(range(low, high + 1))


KINDS = (
    "answer", "confirm", "hold", "unhold", "reject", "invoice", "cancel", "pick", "ship", "fill",
)  # fmt: skip
SENSIBLE: dict[OrderStatus, tuple[str, ...]] = {
    S.SUBMITTED: ("answer",),
    S.RESERVED: ("confirm", "confirm", "hold", "reject", "cancel"),
    S.BACKORDERED: ("confirm", "hold", "reject", "cancel"),
    S.CREDIT_HOLD: ("unhold", "unhold", "reject", "cancel"),
    S.CONFIRMED: ("cancel", "confirm", "fill", "fill"),
    S.RELEASED: ("pick", "pick", "ship", "cancel", "fill"),
    S.PICKED: ("ship", "ship", "ship", "cancel", "fill"),
    S.PARTIALLY_SHIPPED: ("pick", "ship", "ship", "fill", "fill", "invoice", "cancel", "reject"),
    S.SHIPPED: ("invoice",),
}
"""What the outside world would most likely send next, by status."""


def next_message(
    dice: Dice, order: Order | None, refills: Sequence[FillBackorder] = ()
) -> OrderInboxMessage:
    """Any inbox message for the order: the likely next one often, anything sometimes."""
    if order is None or dice.upto(0, 19) == 0:
        return _submit(dice)
    sensible = order.status in SENSIBLE and dice.pick((True, True, True, False))
    kind = dice.pick(SENSIBLE[order.status] if sensible else KINDS)
    if kind == "answer":
        return _answer(dice, order, sensible)
    if kind == "fill":
        return _filled(dice, dice.pick(refills)) if refills else ERP["confirm"]
    if kind == "pick":
        return _pick(dice, order, sensible)
    if kind == "ship":
        return _ship(dice, order, sensible)
    if kind == "cancel":
        return CancelOrder(event_id="-", order_id=ORDER, at=NOW, correlation_id="c")
    return ERP[kind]


ERP: dict[str, OrderInboxMessage] = {
    "confirm": ErpOrderConfirmed(event_id="-", order_id=ORDER),
    "hold": ErpOrderCreditHold(event_id="-", order_id=ORDER, reason="limit"),
    "unhold": ErpOrderCreditReleased(event_id="-", order_id=ORDER),
    "reject": ErpOrderRejected(event_id="-", order_id=ORDER, reason="no"),
    "invoice": ErpOrderInvoiced(event_id="-", order_id=ORDER, invoice_id="INV-1"),
}


def numbered(message: OrderInboxMessage, n: int) -> OrderInboxMessage:
    """The message with a unique event id."""
    return msgspec.structs.replace(message, event_id=f"m-{n}")


def _submit(dice: Dice) -> SubmitOrder:
    lines = tuple(
        OrderLineRequest(
            no, dice.pick(("SKU-1", "SKU-2")), dice.upto(1, 4), dice.pick((None, *WAREHOUSES))
        )
        for no in range(1, dice.upto(1, 3) + 1)
    )
    return SubmitOrder(
        event_id="-",
        order_id=ORDER,
        at=NOW,
        correlation_id="corr",
        customer_id="C-1",
        channel="web",
        lines=lines,
        backorder=dice.pick(("allow", "reject")),
        digest=dice.pick(("d-1", "d-1", "d-2")),
    )


def _answer(dice: Dice, order: Order, sensible: bool) -> LineReserved | LineUnreservable:
    waiting = [line for line in order.lines if not line.resolved] if sensible else []
    line = dice.pick(waiting or order.lines)
    line_no = line.line_no if sensible else dice.pick((line.line_no, len(order.lines) + 1))
    qty = line.qty if sensible else dice.pick((line.qty, line.qty + 1))
    if dice.pick((True, True, False)):
        warehouse = line.warehouse or dice.pick(WAREHOUSES)
        return LineReserved(
            event_id="-",
            order_id=ORDER,
            line_no=line_no,
            sku=line.sku,
            qty=qty,
            warehouse=warehouse,
            fills=_fills(dice, qty, line.warehouse) if order.backorder == "allow" else (),
        )
    return LineUnreservable(
        event_id="-", order_id=ORDER, line_no=line_no, sku=line.sku, qty=qty, atp=0
    )


def _fills(dice: Dice, qty: int, asked: str | None) -> tuple[Fill, ...]:
    """A partial line's parts: all of it, some of it, or split over both warehouses."""
    first = asked or dice.pick(WAREHOUSES)
    some = dice.upto(1, qty)
    if asked is None and some < qty and dice.pick((True, False)):
        other = WAREHOUSES[1] if first == WAREHOUSES[0] else WAREHOUSES[0]
        return (Fill(first, some), Fill(other, dice.upto(1, qty - some)))
    return (Fill(first, some),)


def _filled(dice: Dice, command: FillBackorder) -> BackorderFilled:
    """The stock side's answer to a FillBackorder: some or none of it held."""
    fills = dice.pick(((), _fills(dice, command.qty, command.warehouse)))
    return BackorderFilled(
        event_id="-",
        order_id=ORDER,
        line_no=command.line_no,
        sku=command.sku,
        qty=command.qty,
        fills=fills,
    )


def _at_one_warehouse(dice: Dice, lines: Sequence[OrderLine]) -> tuple[str, list[OrderLine]]:
    """A warehouse, mostly one the lines are at, and a few of the lines there (or any one)."""
    at = [f.warehouse for ln in lines for f in ln.fills] or [ln.warehouse for ln in lines]
    wh = dice.pick([*(w for w in at if w), WAREHOUSES[0]])
    here = [ln for ln in lines if any(f.warehouse == wh for f in ln.fills)] or [dice.pick(lines)]
    return wh, here[: dice.upto(1, len(here))]


def _release_at(line: OrderLine, wh: str) -> int:
    """What the first Release of `line` at `wh` still waiting for its pick asked for."""
    waiting = [f for f in line.fills if f.warehouse == wh and f.released and not f.pick_confirmed]
    return waiting[0].allocated + waiting[0].shipped if waiting else line.qty


def _pick(dice: Dice, order: Order, sensible: bool) -> PickConfirmed:
    waiting = [ln for ln in order.lines if ln.status is LineStatus.RELEASED]
    wh, lines = _at_one_warehouse(dice, waiting if sensible and waiting else order.lines)
    picks = []
    for ln in lines:
        released = _release_at(ln, wh)
        requested = max(1, released if sensible else dice.pick((released, ln.qty + 1)))
        low = ln.shipped if sensible else 0
        picked = dice.pick((requested, *range(low, requested + 2 - sensible)))
        picks.append(PickLine(ln.line_no, ln.sku, requested, picked))
    return PickConfirmed(
        event_id="-", order_id=ORDER, warehouse=wh, txn="T", occurred_at=NOW, lines=tuple(picks)
    )


def _ship(dice: Dice, order: Order, sensible: bool) -> ShipConfirmed:
    unshipped = [ln for ln in order.lines if ln.allocated]
    wh, lines = _at_one_warehouse(dice, unshipped if sensible and unshipped else order.lines)
    ships = tuple(
        NumberedLine(ln.line_no, ln.sku, dice.pick((max(1, ln.allocated), *range(1, ln.qty + 2))))
        for ln in lines
    )
    return ShipConfirmed(
        event_id="-", order_id=ORDER, warehouse=wh, txn="T", occurred_at=NOW, lines=ships
    )


# --- the checks ----------------------------------------------------------------------------


def check_events(before: Order | None, result: OrderApplied) -> None:
    """One new version per event, along the lifecycle's edges, mirrored in history and CRM."""
    status = None if before is None else before.status
    version = 0 if before is None else before.version
    history = () if before is None else before.history
    for event, crm in zip(result.events, result.status_changes, strict=True):
        version += 1
        if isinstance(event, OrderStepBase):
            assert event.status == status  # a step leaves the status where it was
        else:
            assert event.status in EDGES[status], (status, event.status)
            assert (
                status is None
                or status_reached(event.status, status)
                or (status, event.status) in BACK
            )
        assert (event.version, event.event_id) == (version, f"{ORDER}:v{version}")
        assert (crm.event_id, crm.status, crm.lines, crm.event_type) == (
            f"{event.event_id}:crm",
            event.status,
            event.lines,
            type(event).__name__,
        )
        assert event.correlation_id == result.order.correlation_id
        _EVENTS.decode(_ENCODER.encode(event))
        _CRM.decode(_ENCODER.encode(crm))
        status = event.status
    order = result.order
    assert (order.version, order.status) == (version, status)
    assert order.history[: len(history)] == history
    assert [h.event_id for h in order.history[len(history) :]] == [
        e.event_id for e in result.events if not isinstance(e, OrderStepBase)
    ]
    if result.events:
        assert result.events[-1].lines == order.line_states()


def check_steps(traffic: Traffic, result: OrderApplied) -> None:
    """Each effect is published once: the step events, by id, add up to what happened.

    A re-sent event is the very same event; the units that distinct events announce equal
    the order's shipped units and shipments, the short picks told to the stock side, and
    the backorder fills the order took.
    """
    for event in result.events:
        assert traffic.published.setdefault(event.event_id, event) == event
    events = list(traffic.published.values())
    dispatched = Counter[int]()
    for event in events:
        if isinstance(event, OrderShipmentDispatched):
            dispatched.update({ln.line_no: ln.qty for ln in event.shipment.lines})
    order = traffic.order
    assert order is not None
    assert dispatched == Counter({ln.line_no: ln.shipped for ln in order.lines if ln.shipped})
    kept = Counter[int]()
    for record in order.shipments:
        kept.update(dict(record.lines))
    assert kept == dispatched
    short = sum(ln.short for e in events if isinstance(e, OrderPickedShort) for ln in e.short)
    assert short == sum(traffic.shorts.values())
    filled = [ln.qty for e in events if isinstance(e, OrderBackorderFilled) for ln in e.filled]
    assert sum(filled) == traffic.filled


def check_commands(traffic: Traffic, result: OrderApplied) -> None:
    """Every command is well-formed and never asks the stock side for more than it holds."""
    for command in result.stock_commands:
        _STOCK.decode(_ENCODER.encode(command))
        if isinstance(command, RecordShortPick):
            traffic.shorts[command.event_id] = command.short
        settle(traffic.ledger.setdefault(command.line_no, Held()), command)
    for wms in result.wms_commands:
        _WMS.decode(_ENCODER.encode(wms))


def settle(held: Held, command: StockCommandMessage) -> None:
    """Apply one command to a line's holdings, asserting it gives back only what is held."""
    match command:
        case ReserveLine():
            assert (held.reserved, held.allocated) == (0, 0)
        case FillBackorder():
            pass  # answered (or not) by the traffic
        case ReleaseReservation():  # a wholly backordered line only leaves the queue
            held.reserved = 0
        case AllocateLine():
            assert held.reserved > 0
            held.reserved, held.allocated = 0, held.allocated + held.reserved
        case RecordShortPick() | RecordShipment() if command.after_cancel:
            # a late confirmation of a cancelled line: its allocation is already freed
            assert held.allocated == 0
            assert command.warehouse is not None
        case RecordShortPick():
            assert 0 < command.short <= held.allocated
            held.allocated -= command.short
        case RecordShipment():
            assert 0 < command.qty <= held.allocated
            held.allocated -= command.qty
        case Deallocate():
            held.reserved = held.allocated = 0


def check_ledger(traffic: Traffic) -> None:
    """The order's figures are the stock side's; a finished order holds nothing."""
    order = traffic.order
    assert order is not None
    for line in order.lines:
        held = traffic.ledger.get(line.line_no, Held())
        assert (line.reserved, line.allocated) == (held.reserved, held.allocated)
        assert min(line.reserved, line.allocated, line.backordered, line.cancelled) >= 0
        assert max(line.shipped, line.picked) <= line.qty
        if line.resolved and order.status is not S.SUBMITTED:  # a reject line awaits its fate
            total = line.reserved + line.allocated + line.shipped + line.backordered
            assert total + line.cancelled == line.qty, line
    if order.status in (S.CANCELLED, S.REJECTED, S.SHIPPED, S.INVOICED):
        assert all(h.reserved == h.allocated == 0 for h in traffic.ledger.values())


def deliver(traffic: Traffic, message: OrderInboxMessage, offset: int) -> OrderApplied | None:
    """Deliver at `offset`; a failure is a rule's refusal (never a bug) and records nothing."""
    before, rows = traffic.order, dict(traffic.table.rows)
    result = traffic.table.deliver(message, offset)
    if isinstance(result, Failed):
        assert result.reason not in NOT_REFUSALS, result
        assert traffic.table.rows == rows
        return None
    if result.duplicate:
        # nothing changes; a Kafka redelivery re-sends exactly what the first delivery sent,
        # if recent, and an upstream re-send at a new offset sends nothing
        assert result.order == before
        assert traffic.table.rows == rows
        redelivered = before is not None and before.has_applied(offset)
        sent = before.sent_for(message.event_id) if before is not None and redelivered else None
        repeated = (result.events, result.stock_commands, result.wms_commands)
        assert repeated == (
            (sent.events, sent.stock_commands, sent.wms_commands) if sent else ((), (), ())
        )
        check_steps(traffic, result)
        return result
    if isinstance(message, LineReserved):
        # the stock side held this reservation when it answered, and the order took it
        held = sum(fill.qty for fill in message.filled())
        traffic.ledger[message.line_no] = Held(reserved=held)
    if isinstance(message, BackorderFilled):
        traffic.ledger.setdefault(message.line_no, Held()).reserved += sum(
            fill.qty for fill in message.fills
        )
        if before is not None and before.status not in NOTHING_OPEN:  # or it gives it back
            traffic.filled += sum(fill.qty for fill in message.fills)
    check_events(before, result)
    assert traffic.order == result.order
    check_commands(traffic, result)
    check_ledger(traffic)
    check_steps(traffic, result)
    traffic.refills += [c for c in result.stock_commands if isinstance(c, FillBackorder)]
    return result


seeds = st.lists(st.integers(0, 2**48), min_size=1, max_size=40)


@SEQUENCES
@given(seeds, st.booleans())
@example([646201, 7, 7, 1687, 23647, 9487], True)  # a late pick below what shipped late
def test_random_inbox_traffic_keeps_every_invariant(steps: list[int], auto: bool) -> None:
    traffic = Traffic(auto_confirm=auto)
    for n, seed in enumerate(steps):
        dice = Dice(seed)
        if traffic.accepted and dice.upto(0, 5) == 0:
            # a redelivery: the same offset after a rewind, or a re-send at a new offset
            offset, message = dice.pick(traffic.accepted)
            again = deliver(traffic, message, dice.pick((offset, traffic.offset)))
            assert again is not None
            assert again.duplicate
        else:
            message = numbered(next_message(dice, traffic.order, traffic.refills), n)
            if deliver(traffic, message, traffic.offset) is not None:
                traffic.accepted.append((traffic.offset, message))
        traffic.offset += 1


@SEQUENCES
@given(seeds, st.booleans())
def test_cancel_is_accepted_exactly_where_the_contract_allows(steps: list[int], auto: bool) -> None:
    # Given an order in some state reached by random traffic
    traffic = Traffic(auto_confirm=auto)
    for n, seed in enumerate(steps):
        message = next_message(Dice(seed), traffic.order, traffic.refills)
        deliver(traffic, numbered(message, n), n)
        traffic.offset += 1
    order = traffic.order
    if order is None:
        return
    # When it is cancelled
    cancel = CancelOrder(event_id="cancel", order_id=ORDER, at=NOW, correlation_id="c")
    result = deliver(traffic, cancel, traffic.offset)
    # Then exactly the states the contract names accept it, and it frees everything held:
    # until nothing is open, a cancel cancels what has not shipped
    if order.status is S.CANCELLED:
        assert result is not None
        assert result.duplicate
    elif order.status in (S.REJECTED, S.SHIPPED, S.INVOICED):
        assert result is None
    else:
        assert result is not None
        shipped = any(line.shipped for line in order.lines)
        assert result.order.status in ((S.SHIPPED, S.INVOICED) if shipped else (S.CANCELLED,))
        assert all(h.reserved == h.allocated == 0 for h in traffic.ledger.values())
        assert not any(line.open for line in result.order.lines)

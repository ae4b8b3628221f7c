"""Orders and stock together: a hypothesis state machine over both tables' real rules.

Every order (`OrderTable`) and every SKU (`StockTable`) is fed through the real batch
runners. An in-memory bus stands for the Kafka topics between them: the order side's
stock commands go to the SKU's inbox, the stock side's answers to the order's inbox, and
the WMS's and ERP's messages to both. Kafka keeps the order of one key's messages, so the
bus is a queue per key, and hypothesis picks which key is delivered next; any message
already applied may be delivered again. A simulated warehouse (`tests.support.warehouse`)
only picks and ships what was released to it, and keeps the shelf the stock side must
match.
"""

import datetime as dt
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderInvoiced,
    ErpOrderRejected,
    ExpectedReceipt,
    OrderDecision,
)
from protocols.http import OrderLineRequest
from protocols.inventory import (
    StockAdjusted,
    StockCounted,
    StockHoldChanged,
    StockPickedShort,
    StockReceived,
    StockShipped,
    shelf_line_id,
)
from protocols.order_commands import CancelOrder, SubmitOrder
from protocols.orders import OrderStatus
from protocols.reservations import BackorderFilled
from protocols.topics import OrderInboxMessage, StockInboxMessage
from protocols.wms import NumberedLine, PickLine
from protocols.wms_events import PickConfirmed, ShipConfirmed
from tables.batch import Failed
from tables.order.deadline import AWAITING_DECISION, overdue_notice
from tables.order.value import OrderLine
from tables.stock.apply import Applied
from tables.stock.backorder_queue import Backorder
from tables.stock.queue_rows import stored_queue
from tests.support.tables import NOT_REFUSALS, NOW, OrderTable, StockTable
from tests.support.warehouse import Place, Shelf

SKUS = ("SKU-1", "SKU-2", "SKU-3")
WAREHOUSES = ("DC-A", "DC-B")
FINAL = (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.INVOICED)
ERP: dict[str, Callable[[str, str], OrderDecision]] = {
    "confirm": lambda n, o: ErpOrderConfirmed(event_id=n, order_id=o),
    "hold": lambda n, o: ErpOrderCreditHold(event_id=n, order_id=o, reason="limit"),
    "release": lambda n, o: ErpOrderCreditReleased(event_id=n, order_id=o),
    "reject": lambda n, o: ErpOrderRejected(event_id=n, order_id=o, reason="no"),
    "invoice": lambda n, o: ErpOrderInvoiced(event_id=n, order_id=o, invoice_id=f"INV-{n}"),
}
S = OrderStatus
LIKELY = {
    S.RESERVED: ("confirm", "confirm", "confirm", "hold", "reject"),
    S.BACKORDERED: ("confirm", "confirm", "confirm", "hold", "reject"),
    S.CREDIT_HOLD: ("release", "release", "reject"),
    S.PARTIALLY_SHIPPED: ("invoice",),
    S.SHIPPED: ("invoice",),
}
"""ERP's likely next decision, by the order's status."""
FROM_OUTSIDE = (
    CancelOrder,
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderRejected,
    ErpOrderInvoiced,
)
"""Messages people and ERP send when they like: the order's rules may refuse them."""

Message = OrderInboxMessage | StockInboxMessage
Policy = Literal["allow", "reject"]


@dataclass(frozen=True)
class Envelope:
    """A message on the bus: to an order's inbox (`to_order`) or a SKU's, keyed by `key`."""

    to_order: bool
    key: str
    message: Message


class Bus:
    """The topics between the tables: one FIFO queue per key, delivered in any key order."""

    def __init__(self) -> None:
        self.queues: dict[tuple[bool, str], deque[Envelope]] = {}
        self.applied: list[tuple[Envelope, int]] = []  # delivered and applied, at offset

    def send(self, to_order: bool, key: str, message: Message) -> None:
        """Put `message` at the end of its key's queue."""
        self.queues.setdefault((to_order, key), deque()).append(Envelope(to_order, key, message))

    @property
    def keys(self) -> list[tuple[bool, str]]:
        """Keys with something waiting, in the order they were first used."""
        return [key for key, queue in self.queues.items() if queue]

    def take(self, key: tuple[bool, str]) -> Envelope:
        """The oldest waiting message of `key`."""
        return self.queues[key].popleft()


class OrdersAndStock(RuleBasedStateMachine):
    """Orders, stock, ERP and warehouses exchanging messages in any order Kafka allows."""

    def __init__(self) -> None:
        super().__init__()
        self.bus = Bus()
        self.orders: dict[str, OrderTable] = {}
        self.stock = {sku: StockTable(sku) for sku in SKUS}
        self.shelf = Shelf()
        self.n = 0

    def next_id(self, prefix: str) -> str:
        """A unique id for an event the outside world sends."""
        self.n += 1
        return f"{prefix}-{self.n}"

    @initialize(qty=st.integers(1, 6))
    def open_the_shelves(self, qty: int) -> None:
        for sku in SKUS:
            for wh in WAREHOUSES:
                self.fact(StockReceived, sku, wh, qty=qty)
        self.drain_the_bus()

    # --- the warehouse's stock facts, published by the bridge in the WMS's order ----------

    def fact(self, kind: type, sku: str, wh: str, **fields: object) -> None:
        """Send one stock fact of the WMS for `sku` at `wh`, and keep the shelf it leaves."""
        event = kind(event_id=self.next_id("wms"), sku=sku, warehouse=wh, occurred_at=NOW, **fields)
        place = (sku, wh)
        on_hand = self.shelf.on_hand.get(place, 0)
        if isinstance(event, StockReceived):
            self.shelf.set_on_hand(place, on_hand + event.qty)
        elif isinstance(event, StockAdjusted):
            self.unhold_what_is_gone(sku, wh, on_hand + event.delta)
            self.shelf.set_on_hand(place, on_hand + event.delta)
        elif isinstance(event, StockCounted):
            self.unhold_what_is_gone(sku, wh, event.on_hand)
            self.shelf.set_on_hand(place, event.on_hand)
        elif isinstance(event, StockHoldChanged):
            self.shelf.blocked[place] = self.shelf.blocked.get(place, 0) + event.delta
        self.bus.send(False, sku, event)

    def unhold_what_is_gone(self, sku: str, wh: str, on_hand: int) -> None:
        """Units on hold that a count or write-off leaving `on_hand` no longer finds.

        Held units are on the shelf, never among those picked and waiting to ship, so the
        WMS lifts the hold on the ones gone before it posts the count or write-off.
        """
        place = (sku, wh)
        gone = self.shelf.blocked.get(place, 0) - (on_hand - self.shelf.staged.get(place, 0))
        if gone > 0:
            self.fact(StockHoldChanged, sku, wh, delta=-gone)

    @rule(
        kind=st.sampled_from(("receive", "count", "adjust", "hold", "expect_receipt")),
        sku=st.sampled_from(SKUS),
        wh=st.sampled_from(WAREHOUSES),
        n=st.integers(-4, 99),
    )
    def warehouse_or_erp_reports_stock(self, kind: str, sku: str, wh: str, n: int) -> None:
        # one rule for every stock fact, so that orders get as many steps as stock does
        getattr(self, kind)(sku, wh, n)

    def receive(self, sku: str, wh: str, n: int) -> None:
        """Goods arrive at `wh`, on the SKU's purchase order there."""
        qty = 1 + abs(n) % 8
        self.fact(StockReceived, sku, wh, qty=qty, po_id=f"PO-{sku}-{wh}")

    def count(self, sku: str, wh: str, n: int) -> None:
        """A cycle count: it finds anything from what is picked and waiting to ship to a few more.

        Every other count is at a pick face about to be picked, and finds less than was
        released there: its pick will come up short.
        """
        faces = [
            (s, r.warehouse, q) for r in self.shelf.next_to_pick() for s, q in r.lines.values()
        ]
        staged = self.shelf.staged.get((sku, wh), 0)
        found = abs(n) % (self.on_shelf(sku, wh) + 4)
        if faces and n % 2:
            sku, wh, released = faces[n % len(faces)]
            staged = self.shelf.staged.get((sku, wh), 0)
            found = self.shelf.blocked.get((sku, wh), 0) + n % released
        self.fact(StockCounted, sku, wh, on_hand=staged + found)

    def adjust(self, sku: str, wh: str, n: int) -> None:
        """Units found or written off, never more than the shelf holds."""
        delta = max(n % 9 - 4, -self.on_shelf(sku, wh))
        if delta:
            self.fact(StockAdjusted, sku, wh, delta=delta)

    def hold(self, sku: str, wh: str, n: int) -> None:
        """Units put on hold (quality) or released from it, as far as the shelf allows."""
        place = (sku, wh)
        delta = max(min(n % 7 - 3, self.shelf.free(place)), -self.shelf.blocked.get(place, 0))
        if delta:
            self.fact(StockHoldChanged, sku, wh, delta=delta)

    def on_shelf(self, sku: str, wh: str) -> int:
        """Units on the shelf that are not picked for a shipment."""
        place = (sku, wh)
        return self.shelf.on_hand.get(place, 0) - self.shelf.staged.get(place, 0)

    def expect_receipt(self, sku: str, wh: str, n: int) -> None:
        """ERP (re)sends the SKU's purchase order for `wh`: what it still expects, and when."""
        qty = 1 + abs(n) % 10
        eta = NOW.date() + dt.timedelta(days=qty)
        receipt = ExpectedReceipt(
            event_id=self.next_id("erp"), po_id=f"PO-{sku}-{wh}", sku=sku, warehouse=wh,
            qty=qty, eta=eta,
        )  # fmt: skip
        self.bus.send(False, sku, receipt)

    # --- orders, ERP and people -------------------------------------------------------------

    @rule(
        lines=st.lists(
            st.tuples(
                st.sampled_from(SKUS), st.integers(1, 5), st.sampled_from((None, *WAREHOUSES))
            ),
            min_size=1,
            max_size=2,
        ),
        backorder=st.sampled_from(("allow", "allow", "reject")),
        minutes=st.integers(0, 30),
    )
    def submit(
        self,
        lines: list[tuple[str, int, str | None]],
        backorder: Literal["allow", "reject"],
        minutes: int,
    ) -> None:
        order_id = self.next_id("SO")
        self.orders[order_id] = OrderTable(order_id)
        submit = SubmitOrder(
            event_id=f"{order_id}:submit", order_id=order_id,
            at=NOW + dt.timedelta(minutes=minutes),  # submissions not in arrival order
            correlation_id=order_id, customer_id="C-1", channel="web",
            lines=tuple(
                OrderLineRequest(no, sku, qty, wh) for no, (sku, qty, wh) in enumerate(lines, 1)
            ),
            backorder=backorder, digest=order_id,
        )  # fmt: skip
        self.bus.send(True, order_id, submit)

    def some_order(self, n: int) -> str | None:
        """The n-th order (modulo), None before any."""
        ids = list(self.orders)
        return ids[n % len(ids)] if ids else None

    @rule(n=st.integers(0, 50), kind=st.sampled_from(sorted(ERP)), likely=st.integers(0, 3))
    def erp_decides(self, n: int, kind: str, likely: int) -> None:
        # mostly an order waiting for ERP gets its likely decision, sometimes any gets anything
        waiting = [t.order for t in self.orders.values() if t.order and t.order.status in LIKELY]
        if likely and waiting:
            order = waiting[n % len(waiting)]
            options = LIKELY[order.status]
            kind = options[(n + likely) % len(options)]
            order_id = order.order_id
        elif (some := self.some_order(n)) is not None:
            order_id = some
        else:
            return
        self.bus.send(True, order_id, ERP[kind](self.next_id("erp"), order_id))

    @rule(n=st.integers(0, 50), timed_out=st.booleans())
    def order_is_stopped(self, n: int, timed_out: bool) -> None:
        # the customer cancels (any order, any time), or ERP's decision is overdue
        order_id = self.some_order(n)
        if order_id is None:
            return
        order = self.orders[order_id].order
        if not timed_out:
            cancel = CancelOrder(
                event_id=self.next_id("cancel"), order_id=order_id, at=NOW, correlation_id="c"
            )
            self.bus.send(True, order_id, cancel)
        elif order is not None and order.status in AWAITING_DECISION:
            # as the agents' sweep sends it, with the same id however often
            self.bus.send(True, order_id, overdue_notice(order, NOW))

    # --- the warehouse picks and ships what it was released -------------------------------

    @precondition(lambda self: self.shelf.next_to_pick())
    @rule(n=st.integers(0, 50))
    def pick(self, n: int) -> None:
        waiting = self.shelf.next_to_pick()
        release = waiting[n % len(waiting)]
        picked = self.shelf.pick(release)
        txn = self.next_id("P")
        confirmation_id = f"wms:{release.warehouse}:{txn}"
        lines = tuple(
            PickLine(no, sku, qty, picked[no]) for no, (sku, qty) in release.lines.items()
        )
        for line in lines:  # the bridge: each short line to the stock inbox first
            if line.picked < line.requested:
                short = StockPickedShort(
                    event_id=shelf_line_id(confirmation_id, line.no), sku=line.sku,
                    warehouse=release.warehouse, occurred_at=NOW, order_id=release.order_id,
                    line_no=line.no, short=line.requested - line.picked,
                )  # fmt: skip
                self.bus.send(False, line.sku, short)
        confirmation = PickConfirmed(
            event_id=confirmation_id, order_id=release.order_id, warehouse=release.warehouse,
            txn=txn, occurred_at=NOW, lines=lines,
        )  # fmt: skip
        self.bus.send(True, release.order_id, confirmation)

    @precondition(lambda self: any(r.shippable for r in self.shelf.releases))
    @rule(n=st.integers(0, 50))
    def ship(self, n: int) -> None:
        ready = [r for r in self.shelf.releases if r.shippable]
        release = ready[n % len(ready)]
        shipped = self.shelf.ship(release)
        if not shipped:
            return  # picked wholly short: nothing leaves
        txn = self.next_id("S")
        confirmation_id = f"wms:{release.warehouse}:{txn}"
        lines = tuple(NumberedLine(no, release.lines[no][0], qty) for no, qty in shipped.items())
        for line in lines:
            self.bus.send(False, line.sku, StockShipped(
                event_id=shelf_line_id(confirmation_id, line.no), sku=line.sku,
                warehouse=release.warehouse, occurred_at=NOW, order_id=release.order_id,
                line_no=line.no, qty=line.qty,
            ))  # fmt: skip
        confirmation = ShipConfirmed(
            event_id=confirmation_id, order_id=release.order_id, warehouse=release.warehouse,
            txn=txn, occurred_at=NOW, lines=lines, carrier="UPS", tracking=txn,
        )  # fmt: skip
        self.bus.send(True, release.order_id, confirmation)

    # --- the bus: in order, across keys in any order, and again ---------------------------

    @precondition(lambda self: self.bus.keys)
    @rule(picks=st.lists(st.integers(0, 50), min_size=1, max_size=4))
    def deliver_a_few(self, picks: list[int]) -> None:
        # each time the oldest message of any key with something waiting
        for n in picks:
            if keys := self.bus.keys:
                self.deliver(self.bus.take(keys[n % len(keys)]))

    @precondition(lambda self: self.bus.applied)
    @rule(n=st.integers(0, 500), same_offset=st.booleans())
    def deliver_again(self, n: int, same_offset: bool) -> None:
        # a Kafka redelivery (the same offset) or an upstream re-send (a new offset)
        envelope, offset = self.bus.applied[n % len(self.bus.applied)]
        self.deliver(envelope, offset if same_offset else None, again=True)

    @precondition(lambda self: self.bus.keys)
    @rule(n=st.integers(0, 2**16))
    def drain_the_bus(self, n: int = 0) -> None:
        while keys := self.bus.keys:
            self.deliver(self.bus.take(keys[n % len(keys)]))
            n //= 2

    def deliver(self, envelope: Envelope, offset: int | None = None, again: bool = False) -> None:
        """Apply one delivery to its table and put what it sends on the bus."""
        if envelope.to_order:
            self.deliver_to_order(envelope, offset, again)
        else:
            self.deliver_to_stock(envelope, offset, again)

    def deliver_to_order(self, envelope: Envelope, offset: int | None, again: bool) -> None:
        table = self.orders[envelope.key]
        at = table.next_offset if offset is None else offset
        rows = dict(table.rows)
        message = envelope.message
        outcome = table.deliver(message, at)  # type: ignore[arg-type]
        if isinstance(outcome, Failed):
            # people and ERP may send what the lifecycle refuses; the system itself never
            assert isinstance(message, FROM_OUTSIDE), (outcome, message)
            assert outcome.reason not in NOT_REFUSALS, outcome
            assert table.rows == rows
            return
        if again or outcome.duplicate:
            assert outcome.duplicate, ("applied twice", message)
            assert table.rows == rows
        else:
            self.bus.applied.append((envelope, at))
        for command in outcome.stock_commands:
            self.bus.send(False, command.sku, command)
        for wms in outcome.wms_commands:
            self.shelf.take(wms)

    def deliver_to_stock(self, envelope: Envelope, offset: int | None, again: bool) -> None:
        table = self.stock[envelope.key]
        at = table.stock.last_offset + 1 if offset is None else offset
        rows = dict(table.rows)
        outcome = table.deliver(envelope.message, at)  # type: ignore[arg-type]
        assert isinstance(outcome, Applied), (outcome, envelope.message)
        if again:
            # a shelf event whose line no longer holds anything there is left to the order
            # side rather than marked duplicate: either way nothing may change
            assert table.rows == rows, ("applied twice", envelope.message)
        elif not outcome.duplicate:
            self.bus.applied.append((envelope, at))
            self.check_first_come_first_served(envelope.key, outcome)
        for answer in outcome.answers:
            self.bus.send(True, answer.order_id, answer)

    # --- what must hold -----------------------------------------------------------------------

    def check_first_come_first_served(self, sku: str, applied: Applied) -> None:
        """A backorder fill never went past an older line that could take from that warehouse."""
        queue = self.queue(sku)
        for answer in applied.answers:
            if not isinstance(answer, BackorderFilled):
                continue
            rank = self.rank(answer.order_id, answer.line_no)
            for entry in queue:
                for fill in answer.fills:
                    assert not (entry.rank < rank and entry.takes_from(fill.warehouse)), (
                        entry,
                        answer,
                    )

    def rank(self, order_id: str, line_no: int) -> tuple[dt.datetime, str, int]:
        """A line's place in its SKU's backorder queue: its order's submission."""
        order = self.orders[order_id].order
        assert order is not None
        return (order.history[0].at, order_id, line_no)

    def queue(self, sku: str) -> tuple[Backorder, ...]:
        """The SKU's backorder queue, oldest first."""
        return stored_queue(self.stock[sku].rows, sku)

    @invariant()
    def every_answered_line_adds_up(self) -> None:
        for table in self.orders.values():
            order = table.order
            if order is None:
                continue
            for line in order.lines:
                figures = (line.reserved, line.allocated, line.shipped)
                assert min(*figures, line.backordered, line.cancelled) >= 0, line
                if line.resolved and order.status is not OrderStatus.SUBMITTED:
                    total = sum(figures) + line.backordered + line.cancelled
                    assert total == line.qty, (order.status, line)

    @invariant()
    def no_position_commits_more_than_the_shelf(self) -> None:
        for table in self.stock.values():
            for p in table.stock.positions:
                assert min(p.on_hand, p.blocked, p.reserved, p.allocated, p.atp) >= 0, p
                # only allocations already released may exceed the shelf, until picked short
                assert p.reserved + p.blocked <= p.on_hand, p
                if p.reserved + p.allocated + p.blocked > p.on_hand:
                    assert p.reserved == 0, p
                    assert p.atp == 0, p

    @invariant()
    def no_waiting_line_could_take_free_stock(self) -> None:
        for sku, table in self.stock.items():
            for entry in self.queue(sku):
                for p in table.stock.positions:
                    assert not (entry.takes_from(p.warehouse) and p.atp > 0), (entry, p)

    @invariant()
    def a_drained_bus_leaves_both_sides_agreeing(self) -> None:
        if self.bus.keys:
            return
        self.check_the_shelf()
        for order_id, table in self.orders.items():
            order = table.order
            if order is None:
                continue
            for line in order.lines:
                self.check_line_holds(order_id, line, order.status)

    def check_the_shelf(self) -> None:
        """On hand and blocked are the warehouse's, taken once each in the WMS's order."""
        for (sku, wh), on_hand in self.shelf.on_hand.items():
            position = self.stock[sku].stock.position(wh)
            assert position is not None
            place: Place = (sku, wh)
            assert (position.on_hand, position.blocked) == (on_hand, self.shelf.blocked[place])

    def check_line_holds(self, order_id: str, line: OrderLine, status: OrderStatus) -> None:
        """What the order's fills hold at each warehouse is what the stock side holds there."""
        stock = self.stock[line.sku]
        held: dict[str, tuple[int, int]] = {}
        for hold in stock.holds(order_id, line.line_no):
            r, a = held.get(hold.warehouse, (0, 0))
            held[hold.warehouse] = (r + hold.reserved, a + hold.allocated)
        told: dict[str, tuple[int, int]] = {}
        for fill in line.fills:
            r, a = told.get(fill.warehouse, (0, 0))
            told[fill.warehouse] = (r + fill.reserved, a + fill.allocated)
        told = {wh: figures for wh, figures in told.items() if figures != (0, 0)}
        assert held == told, (order_id, status, line)
        waiting = sum(e.qty for e in self.queue(line.sku) if e.key == (order_id, line.line_no))
        expected = 0 if status in FINAL else line.backordered
        assert waiting == expected, (order_id, status, line, waiting)


# The suite runs the same 200 days every time (derandomized: `--hypothesis-seed` is
# ignored). To explore, set DISTGATE_MODEL_EXAMPLES=N: N random days, and
# `--hypothesis-seed=S` replays a run. Exploring so found the cases replayed in
# test_orders_stock_model_findings.py.
EXPLORE = int(os.environ.get("DISTGATE_MODEL_EXAMPLES", "0"))
OrdersAndStock.TestCase.settings = settings(
    max_examples=EXPLORE or 200,
    stateful_step_count=50,
    deadline=None,
    report_multiple_bugs=False,
    derandomize=not EXPLORE,
    database=None,
)
test_orders_and_stock_together = OrdersAndStock.TestCase

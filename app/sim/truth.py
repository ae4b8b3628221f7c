"""The simulators' own truth, which the gateway is checked against (never against itself).

Stock follows what the WMS simulator sent, in the order it sent it: receipts, adjustments,
holds, counts, short picks and shipments. An order's outcome follows from what ERP decided
for it (or that it never did), the shop's cancel and the API's answer to it, and what the
warehouses did with it; for the orders ERP never decided and the remainders the shop
cancelled, down to each line's shipped and cancelled units.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from protocols.wms import (
    WmsAdjust,
    WmsCount,
    WmsHold,
    WmsMessage,
    WmsPickConfirm,
    WmsReceipt,
    WmsShipConfirm,
)
from protocols.wms_xml_peer import WarehouseCancel, WarehouseRelease

# Where an order rests once nobody will move it any more: a confirmed order whose open units
# are all backordered is CONFIRMED (wholly backordered, or picked wholly short), one that
# shipped part is PARTIALLY_SHIPPED, until stock arrives for the rest.
RESTING = frozenset({"INVOICED", "REJECTED", "CANCELLED", "CONFIRMED", "PARTIALLY_SHIPPED"})
DECISION_TIMEOUT = "decision_timeout"  # the reason of the cancel of an order ERP never decided
CANCELLED = "OrderCancelled"
REMAINDER_CANCELLED = "OrderRemainderCancelled"

Position = tuple[str, str]
"""(SKU, warehouse)."""


def wholly_backordered(order: Mapping[str, Any]) -> bool:
    """Whether an order (as the API shows it) is confirmed with every line backordered."""
    return order["status"] == "CONFIRMED" and all(
        line["backordered"] == line["qty"] for line in order["lines"]
    )


def rests_partly_shipped(order: Mapping[str, Any]) -> bool:
    """Whether an order (as the API shows it) shipped part and waits for stock for the rest.

    Nothing of it is reserved or at a warehouse: what is open is backordered, so a cancel
    of the remainder races no shipment.
    """
    return order["status"] == "PARTIALLY_SHIPPED" and not any(
        line["reserved"] or line["allocated"] for line in order["lines"]
    )


def picked_wholly_short(order: Mapping[str, Any]) -> bool:
    """Whether an order (as the API shows it) went to a warehouse and came back all backordered."""
    released = any(entry["status"] == "RELEASED" for entry in order["history"])
    return released and wholly_backordered(order)


@dataclass(frozen=True)
class StockFigures:
    """One position as the warehouse knows it; nothing is reserved once the day has settled."""

    on_hand: int = 0
    blocked: int = 0

    @property
    def atp(self) -> int:
        """What can be promised once no order holds any of it (no safety stock in the demo)."""
        return max(0, self.on_hand - self.blocked)

    def moved(self, delta: int) -> "StockFigures":
        """on_hand changed; blocked stock cannot outnumber what is physically there."""
        return self.counted(self.on_hand + delta)

    def counted(self, on_hand: int) -> "StockFigures":
        """on_hand set to a figure, blocked kept within it."""
        return StockFigures(on_hand, min(self.blocked, on_hand))


@dataclass
class StockLedger:
    """Positions folded from the WMS's messages, and where it gave out stock it did not have."""

    positions: dict[Position, StockFigures] = field(default_factory=dict)
    overdrawn: list[str] = field(default_factory=list)

    def apply(self, message: WmsMessage) -> None:
        """Fold one message the WMS sent."""
        where = message.warehouse
        match message:
            case WmsReceipt():
                for line in message.lines:
                    self._move(line.sku, where, line.qty, message.txn)
            case WmsAdjust():
                for delta in message.lines:
                    self._move(delta.sku, where, delta.delta, message.txn)
            case WmsCount():
                for count in message.lines:
                    self._set(count.sku, where, self._at(count.sku, where).counted(count.on_hand))
            case WmsHold():
                for hold in message.lines:
                    now = self._at(hold.sku, where)
                    self._set(hold.sku, where, replace(now, blocked=now.blocked + hold.delta))
            case WmsPickConfirm():
                for pick in message.lines:
                    self._move(pick.sku, where, pick.picked - pick.requested, message.txn)
            case WmsShipConfirm():
                for ship in message.lines:
                    self._move(ship.sku, where, -ship.qty, message.txn)

    def _at(self, sku: str, warehouse: str) -> StockFigures:
        return self.positions.get((sku, warehouse), StockFigures())

    def _set(self, sku: str, warehouse: str, figures: StockFigures) -> None:
        self.positions[(sku, warehouse)] = figures

    def _move(self, sku: str, warehouse: str, delta: int, txn: str) -> None:
        figures = self._at(sku, warehouse).moved(delta)
        if figures.on_hand < 0:
            self.overdrawn.append(f"{sku} in {warehouse}: {txn} takes on_hand to {figures.on_hand}")
        self._set(sku, warehouse, figures)


def stock_ledger(messages: Iterable[WmsMessage]) -> StockLedger:
    """Every position the WMS's messages touched, in the order it sent them."""
    ledger = StockLedger()
    for message in messages:
        ledger.apply(message)
    return ledger


def stock_truth(messages: Iterable[WmsMessage]) -> dict[Position, StockFigures]:
    """on_hand and blocked per SKU and warehouse: what the WMS's messages add up to."""
    return stock_ledger(messages).positions


@dataclass(frozen=True)
class WarehouseFacts:
    """What the warehouses did with one order: which got a Release, a Cancel, picked, shipped."""

    released: frozenset[str] = frozenset()
    withdrawn: frozenset[str] = frozenset()
    picked: frozenset[str] = frozenset()
    shipped: frozenset[str] = frozenset()
    releases: int = 0  # Releases received (a backorder filled later gets one of its own)
    picks: int = 0  # PickConfirms sent
    units_shipped: int = 0

    @property
    def answered(self) -> bool:
        """Every Release was picked, or its warehouse was told to cancel the order."""
        every = bool(self.withdrawn) or self.picks >= self.releases
        return self.released <= self.picked | self.withdrawn and every


def warehouse_facts(
    releases: Iterable[WarehouseRelease],
    cancels: Iterable[WarehouseCancel],
    messages: Iterable[WmsMessage],
) -> dict[str, WarehouseFacts]:
    """Per order id, the warehouses' side of it."""
    seen: dict[str, dict[str, set[str]]] = {}
    counts: dict[str, Counter[str]] = {}

    def note(order: str, what: str, warehouse: str, count: int = 1) -> None:
        seen.setdefault(order, {}).setdefault(what, set()).add(warehouse)
        counts.setdefault(order, Counter())[what] += count

    for release in releases:
        note(release.order, "released", release.warehouse)
    for cancel in cancels:
        note(cancel.order, "withdrawn", cancel.warehouse)
    for message in messages:
        if isinstance(message, WmsPickConfirm):
            note(message.order, "picked", message.warehouse)
        elif isinstance(message, WmsShipConfirm):
            note(message.order, "shipped", message.warehouse, sum(ln.qty for ln in message.lines))
    return {
        order: WarehouseFacts(
            **{what: frozenset(where) for what, where in facts.items()},
            releases=counts[order]["released"],
            picks=counts[order]["picked"],
            units_shipped=counts[order]["shipped"],
        )
        for order, facts in seen.items()
    }


def shipped_by_line(messages: Iterable[WmsMessage]) -> dict[str, Counter[int]]:
    """Per order id, the units the warehouses shipped of each line (by line number)."""
    shipped: dict[str, Counter[int]] = {}
    for message in messages:
        if isinstance(message, WmsShipConfirm):
            lines = shipped.setdefault(message.order, Counter())
            for line in message.lines:
                lines[line.no] += line.qty
    return shipped


@dataclass(frozen=True)
class LineEnd:
    """Where one line of a closed order must end: shipped and cancelled, nothing else open."""

    line_no: int
    shipped: int
    cancelled: int


def closed_lines(quantities: Sequence[int], shipped: Mapping[int, int]) -> tuple[LineEnd, ...]:
    """Each line of an order that is closed: what shipped stays, every other unit is cancelled."""
    return tuple(
        LineEnd(no, shipped.get(no, 0), qty - shipped.get(no, 0))
        for no, qty in enumerate(quantities, 1)
    )


@dataclass(frozen=True)
class OrderFacts:
    """Everything outside the gateway knows about one order."""

    erp: Sequence[str] = ()  # what ERP sent for it, in order (OrderConfirmed, OrderCreditHold...)
    cancel: int | None = None  # the API's answer to the shop's cancel, if it asked
    warehouses: WarehouseFacts = WarehouseFacts()
    ordered: int = 0  # units the shop ordered (0: not known, taken as all shipped)
    undecided: bool = False  # ERP saw it wait for its decision and never gave one
    remainder: bool = False  # the shop cancelled what had not shipped of it, partly shipped
    quantities: Sequence[int] = ()  # units ordered per line, in line order
    shipped: Mapping[int, int] = field(default_factory=dict)  # units shipped per line number


@dataclass(frozen=True)
class Expected:
    """The status an order must end in, why, and whether the simulators are done with it.

    For some orders more is known: the event on orders.events that closed it (with its
    reason, when that is known too) and each line's end.
    """

    status: str
    why: str
    final: bool = True
    event: str | None = None
    reason: str | None = None
    lines: tuple[LineEnd, ...] | None = None


def expected_status(facts: OrderFacts) -> Expected:
    """Where the order must end, by what the shop, ERP and the warehouses did."""
    erp, wms = Counter(facts.erp), facts.warehouses
    if wms.shipped:
        # goods left a warehouse: a cancel took only what had not shipped (or lost the race
        # to the shipment), and ERP invoices shipped orders
        if facts.remainder:
            return _remainder_cancelled(facts)
        if facts.cancel == 202:
            return Expected("INVOICED", "shipped in part, the rest cancelled", wms.answered)
        if wms.units_shipped < facts.ordered:
            why = "the WMS shipped part of it; the rest is backordered, waiting for stock"
            return Expected("PARTIALLY_SHIPPED", why, wms.answered)
        return Expected("INVOICED", "the WMS shipped all of it", wms.answered)
    if facts.cancel == 202:
        return Expected("CANCELLED", "the cancel was accepted (202) and nothing shipped")
    if facts.undecided:
        why = "ERP never decided it: cancelled at the decision timeout, its stock given back"
        lines = closed_lines(facts.quantities, {})
        return Expected("CANCELLED", why, True, CANCELLED, DECISION_TIMEOUT, lines)
    if not erp["OrderConfirmed"] + erp["OrderCreditHold"] + erp["OrderRejected"]:
        return Expected("REJECTED", "ERP never saw it reserved or backordered: out of stock")
    if erp["OrderRejected"]:
        return Expected("REJECTED", "ERP rejected it")
    if erp["OrderCreditHold"] and not erp["OrderCreditReleased"]:
        return Expected("CREDIT_HOLD", "ERP holds it for credit", final=False)
    if wms.released:
        if wms.answered:
            return Expected("CONFIRMED", "picked wholly short: it waits for stock")
        return Expected("RELEASED", "a warehouse has not answered its Release", final=False)
    return Expected("CONFIRMED", "wholly backordered: nothing to release")


def _remainder_cancelled(facts: OrderFacts) -> Expected:
    """The shop cancelled the rest of an order resting partly shipped: only what shipped stays.

    Something was open (backordered), so the gateway had to accept (contract 8: 409 only
    when nothing is left to cancel); the order ends invoiced for what shipped.
    """
    why = "shipped in part, the unshipped remainder cancelled"
    if facts.cancel != 202:
        why += f", though the cancel was answered {facts.cancel} with units still open"
    lines = closed_lines(facts.quantities, facts.shipped)
    return Expected("INVOICED", why, facts.warehouses.answered, REMAINDER_CANCELLED, lines=lines)

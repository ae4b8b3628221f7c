"""The simulators' own truth, which the gateway is checked against (never against itself).

Stock follows what the WMS simulator sent, in the order it sent it: receipts, adjustments,
holds, counts, short picks and shipments. An order's outcome follows from what ERP decided
for it, the shop's cancel and the API's answer to it, and what the warehouses did with it.
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

# Where an order rests once nobody will move it any more (a wholly backordered order is
# confirmed with nothing to release; one picked wholly short stays PICKED).
RESTING = frozenset({"INVOICED", "REJECTED", "CANCELLED", "CONFIRMED", "PICKED"})

Position = tuple[str, str]
"""(SKU, warehouse)."""


def wholly_backordered(order: Mapping[str, Any]) -> bool:
    """Whether an order (as the API shows it) is confirmed with every line backordered."""
    return order["status"] == "CONFIRMED" and all(
        line["backordered"] == line["qty"] for line in order["lines"]
    )


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

    @property
    def answered(self) -> bool:
        """Every warehouse that got a Release picked it or was told to cancel it."""
        return self.released <= self.picked | self.withdrawn


def warehouse_facts(
    releases: Iterable[WarehouseRelease],
    cancels: Iterable[WarehouseCancel],
    messages: Iterable[WmsMessage],
) -> dict[str, WarehouseFacts]:
    """Per order id, the warehouses' side of it."""
    seen: dict[str, dict[str, set[str]]] = {}

    def note(order: str, what: str, warehouse: str) -> None:
        seen.setdefault(order, {}).setdefault(what, set()).add(warehouse)

    for release in releases:
        note(release.order, "released", release.warehouse)
    for cancel in cancels:
        note(cancel.order, "withdrawn", cancel.warehouse)
    for message in messages:
        if isinstance(message, WmsPickConfirm):
            note(message.order, "picked", message.warehouse)
        elif isinstance(message, WmsShipConfirm):
            note(message.order, "shipped", message.warehouse)
    return {
        order: WarehouseFacts(**{what: frozenset(where) for what, where in facts.items()})
        for order, facts in seen.items()
    }


@dataclass(frozen=True)
class OrderFacts:
    """Everything outside the gateway knows about one order."""

    erp: Sequence[str] = ()  # what ERP sent for it, in order (OrderConfirmed, OrderCreditHold...)
    cancel: int | None = None  # the API's answer to the shop's cancel, if it asked
    warehouses: WarehouseFacts = WarehouseFacts()


@dataclass(frozen=True)
class Expected:
    """The status an order must end in, why, and whether the simulators are done with it."""

    status: str
    why: str
    final: bool = True


def expected_status(facts: OrderFacts) -> Expected:
    """Where the order must end, by what the shop, ERP and the warehouses did."""
    erp, wms = Counter(facts.erp), facts.warehouses
    if wms.shipped:
        # goods left a warehouse: a cancel must have been refused, and ERP invoices shipments
        return Expected("INVOICED", "the WMS shipped it", wms.answered)
    if facts.cancel == 202:
        return Expected("CANCELLED", "the cancel was accepted (202) and nothing shipped")
    if not erp["OrderConfirmed"] + erp["OrderCreditHold"] + erp["OrderRejected"]:
        return Expected("REJECTED", "ERP never saw it reserved or backordered: out of stock")
    if erp["OrderRejected"]:
        return Expected("REJECTED", "ERP rejected it")
    if erp["OrderCreditHold"] and not erp["OrderCreditReleased"]:
        return Expected("CREDIT_HOLD", "ERP holds it for credit", final=False)
    if wms.released:
        if wms.answered:
            return Expected("PICKED", "picked wholly short: nothing to ship")
        return Expected("RELEASED", "a warehouse has not answered its Release", final=False)
    return Expected("CONFIRMED", "wholly backordered: nothing to release")

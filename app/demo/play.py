"""Playing the day: opening stock first, then every stock move and shopper at its time.

Once a bulk order's unshipped remainder is cancelled, its limited item is restocked a
little: a backorder the stock side still kept for the closed order would take it, and the
check would find it reserved where the warehouse says nothing is.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from app.demo.check import Finding, check_stock
from app.demo.day import Arrival, Day, StockMove
from app.demo.settle import read_stock
from app.sim.shop import Visit, WebShop
from app.sim.truth import stock_truth
from app.sim.wms import WmsSimulator
from protocols.orders import OrderStatus

OPENING_WAIT = 120.0  # seconds for the opening receipts to show at the gateway
RESTOCK = 2  # units of a limited item received once its bulk order's remainder is cancelled


@dataclass
class DayClock:
    """Seconds into the trading day, and the share of it played."""

    duration: float
    started: float | None = None

    def start(self) -> None:
        """The shop opens now."""
        self.started = time.monotonic()

    @property
    def share(self) -> float:
        """0 before the shop opens, 1 once the day is over."""
        if self.started is None:
            return 0.0
        return min(1.0, (time.monotonic() - self.started) / self.duration)

    async def until(self, at: float) -> None:
        """Sleep until `at` seconds into the day."""
        assert self.started is not None, "the day has not started"
        await asyncio.sleep(max(0.0, self.started + at - time.monotonic()))


async def open_stock(day: Day, shop: WebShop, wms: WmsSimulator) -> list[Finding]:
    """Send the opening receipts; wait until the gateway shows them (or say where it does not)."""
    for move in day.opening:
        await send(wms, move)
    truth = stock_truth(sent.message for sent in wms.sent)
    deadline = time.monotonic() + OPENING_WAIT
    while True:
        findings = check_stock(await read_stock(shop, day.catalogue.skus), truth)
        if not findings or time.monotonic() > deadline:
            return findings
        await asyncio.sleep(0.5)


async def play(day: Day, shop: WebShop, wms: WmsSimulator, clock: DayClock) -> list[str]:
    """Open the shop and play every arrival and stock move; return what failed, in words."""
    clock.start()

    async def arrive(arrival: Arrival) -> None:
        await clock.until(arrival.at)
        await shop.visit(arrival.visit)
        await restock_after_remainder(day, shop, wms, arrival.visit)

    async def move(step: StockMove) -> None:
        await clock.until(step.at)
        await send(wms, step)

    results = await asyncio.gather(
        *(arrive(arrival) for arrival in day.arrivals),
        *(move(step) for step in day.moves),
        return_exceptions=True,
    )
    return _failures(results)


async def restock_after_remainder(day: Day, shop: WebShop, wms: WmsSimulator, visit: Visit) -> None:
    """Once the order shows its remainder cancelled (202), receive RESTOCK more of its items."""
    if visit.order_id not in shop.remainders or shop.cancels.get(visit.order_id) != 202:
        return
    await shop.order(visit.order_id, wait_for=OrderStatus.SHIPPED)
    for sku, _ in visit.lines:
        await wms.receipt(day.catalogue.stocked_in[sku][0], {sku: RESTOCK})


def _failures(results: Sequence[object]) -> list[str]:
    return [
        f"{type(result).__name__}: {result}" for result in results if isinstance(result, Exception)
    ]


async def send(wms: WmsSimulator, move: StockMove) -> None:
    """Have the warehouse publish one stock move."""
    lines = dict(move.lines)
    if move.kind == "receipt":
        await wms.receipt(move.warehouse, lines, po=move.po)
    elif move.kind == "count":
        await wms.count(move.warehouse, lines)
    elif move.kind == "recount":
        await wms.recount(move.warehouse, lines)
    elif move.kind == "hold":
        await wms.hold(move.warehouse, lines, reason=move.reason)
    else:
        await wms.adjust(move.warehouse, lines, reason=move.reason)

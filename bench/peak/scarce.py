"""Backorders under load: a few scarce SKUs ordered with `backorder: allow`, then refilled.

The peak's own orders seldom run a SKU dry (tens of units per position over a catalogue
of thousands), and its receipts seldom land on a SKU someone waits for. So beside them
the bench orders a handful of SKUs of its own that start with a few units, faster than
their receipts refill them: lines are backordered as the run goes, the receipts during
the run fill some of them, and a last delivery after the run fills more, each time
oldest order first, which the backorder oracle then checks. Their orders and receipts
are paced like every path but recorded apart, so the peak's figures stay the peak's.
"""

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.bridge.load import until_visible
from bench.load.openloop import Pacing, Shape, pace
from bench.peak.shop import Shop
from bench.peak.wms import Warehouses

START_UNITS = 2  # each scarce position starts with these
LAST_DELIVERY = 4  # units each scarce position receives once the load has stopped
MAX_LINE_QTY = 5


def scarce_skus(
    tag: str, count: int, warehouses: Sequence[str], seed: int
) -> dict[str, tuple[str, ...]]:
    """`count` new SKUs of the run, each stocked in two of the warehouses (one if only one)."""
    rng = random.Random(seed)
    most = min(2, len(warehouses))
    return {
        f"BENCH-{tag}-S{number:03d}": tuple(sorted(rng.sample(list(warehouses), most)))
        for number in range(count)
    }


@dataclass
class ScarceShop(Shop):
    """A shop whose orders take 1-2 scarce SKUs of 1-5 units each, always `backorder: allow`."""

    def _order_body(self, number: int) -> dict[str, Any]:
        skus = self._distinct(1, 2)
        lines = [
            {"line_no": n, "sku": sku, "qty": self._rng.randint(1, MAX_LINE_QTY)}
            for n, sku in enumerate(skus, 1)
        ]
        return {
            "order_id": f"{self.order_prefix}{self.seed}-{next(self._order_numbers)}",
            "customer_id": f"C-{number % 997}",
            "channel": "web",
            "backorder": "allow",
            "lines": lines,
        }


@dataclass
class ScarceLoad:
    """The scarce SKUs' orders and receipts; what each path's pacing was."""

    shop: ScarceShop
    wms: Warehouses  # publishes into the peak's truth
    stocked_in: dict[str, tuple[str, ...]]
    seed: int = 5
    pacings: dict[str, Pacing] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._skus = sorted(self.stocked_in)

    async def stock(self) -> None:
        """The scarce SKUs' first units, visible before any order of them is sent."""
        for n, (sku, warehouses) in enumerate(self.stocked_in.items()):
            for warehouse in warehouses:
                await self._receive(
                    f"{self.wms.tag}-s0-{n}-{warehouse}", sku, warehouse, START_UNITS
                )
        api, since = self.wms.api_urls[0], time.perf_counter()
        visible = await asyncio.gather(
            *(until_visible(self.wms.http, api, sku, since) for sku in self.stocked_in)
        )
        if not all(visible):
            raise RuntimeError("the scarce SKUs' first receipts never showed in ATP")

    async def run(
        self, shape: tuple[float, float], started: float, seconds: float, late_s: float
    ) -> None:
        """Orders at `shape[0]`/s and receipts at `shape[1]`/s for `seconds`, no burst."""
        order_rate, refill_rate = shape
        orders, refills = await asyncio.gather(
            pace(Shape(order_rate), started, seconds, self.shop.order, late_s),
            pace(Shape(refill_rate), started, seconds, self._refill, late_s),
        )
        self.pacings = {"orders": orders, "receipts": refills}

    async def last_delivery(self) -> None:
        """Every scarce position receives `LAST_DELIVERY` units once the load stopped."""
        for n, (sku, warehouses) in enumerate(self.stocked_in.items()):
            for warehouse in warehouses:
                await self._receive(
                    f"{self.wms.tag}-sz-{n}-{warehouse}", sku, warehouse, LAST_DELIVERY
                )

    def figures(self) -> dict[str, Any]:
        """What the scarce load sent, as the report's backorders section has it."""
        return {
            "skus": len(self.stocked_in),
            "orders_accepted": len(self.shop.accepted),
            "receipts_confirmed": self.wms.publishes.summary(1.0)["count"],
            "pacing": {name: pacing.figures() for name, pacing in self.pacings.items()},
        }

    async def _refill(self, scheduled: float, number: int) -> None:
        sku = self._rng.choice(self._skus)
        warehouse = self._rng.choice(self.stocked_in[sku])
        await self.wms.publish(
            f"{self.wms.tag}-sr{number}",
            sku,
            warehouse,
            self._rng.randint(1, MAX_LINE_QTY),
            scheduled,
        )

    async def _receive(self, txn: str, sku: str, warehouse: str, qty: int) -> None:
        if not await self.wms.publish(txn, sku, warehouse, qty, 0.0):
            raise RuntimeError(f"RabbitMQ did not confirm the scarce receipt {txn}")

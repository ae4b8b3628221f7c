"""The gateway's partners under chaos: an ERP that confirms orders, a WMS per warehouse.

Without them a peak run only reserves; with them confirmed orders are released to the
warehouses, picked and shipped, so allocations and shipments are exercised under
faults too, and one warehouse can go away (`wms-outage`) while its commands wait in its
durable queue. What the WMSs shipped lowers the on hand the oracle expects.
"""

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aio_pika

from app.sim.erp import ErpSimulator
from app.sim.wms import WmsSimulator
from protocols.wms import WmsShipConfirm

Position = tuple[str, str]


@dataclass
class Fleet:
    """One ERP and one simulated WMS per warehouse, each warehouse on a queue of its own."""

    amqp_url: str
    bootstrap: str
    app_id: str
    warehouses: Sequence[str]
    seed: int = 1
    # only orders whose id starts with it are the run's own: the WMS and ERP on a shared
    # broker leave every other deployment's orders alone
    orders_prefix: str = ""
    wms: dict[str, WmsSimulator] = field(default_factory=dict)
    erp: ErpSimulator | None = None

    async def start(self) -> None:
        """Start the ERP and every warehouse's WMS."""
        self.erp = ErpSimulator(
            self.bootstrap,
            hold_rate=0.0,
            seed=f"chaos-{self.seed}",
            orders_prefix=self.orders_prefix,
        )
        await self.erp.start()
        for number, warehouse in enumerate(self.warehouses):
            sim = WmsSimulator(
                self.amqp_url,
                [warehouse],
                short_pick_rate=0.0,
                seed=self.seed + number,
                queue_name=self._queue(warehouse),
                orders_prefix=self.orders_prefix,
            )
            await sim.start()
            self.wms[warehouse] = sim

    async def stop(self) -> None:
        """Stop them all and delete the warehouses' queues."""
        if self.erp is not None:
            await self.erp.stop()
        for sim in self.wms.values():
            await sim.stop()
        with contextlib.suppress(Exception):  # the broker may be the one a fault took away
            connection = await aio_pika.connect(self.amqp_url, timeout=10)
            async with connection:
                channel = await connection.channel()
                for warehouse in self.wms:
                    await channel.queue_delete(self._queue(warehouse))

    def shipped(self) -> Counter[Position]:
        """Units every WMS shipped (and RabbitMQ confirmed), per SKU and warehouse."""
        units: Counter[Position] = Counter()
        for sim in self.wms.values():
            for sent in sim.sent:
                if isinstance(sent.message, WmsShipConfirm):
                    for line in sent.message.lines:
                        units[(line.sku, sent.message.warehouse)] += line.qty
        return units

    def _queue(self, warehouse: str) -> str:
        return f"{self.app_id}.chaos-wms.{warehouse}"

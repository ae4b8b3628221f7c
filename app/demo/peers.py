"""The demo's ERP, kept to this run's orders."""

from dataclasses import dataclass

from app.sim.erp import ErpSimulator
from protocols.erp import OrderDecision


@dataclass
class RunErp(ErpSimulator):
    """ERP for the orders whose id starts with `prefix` only.

    orders.events is shared by every gateway on the Kafka cluster: without the filter the
    demo's ERP would also confirm, hold or reject other runs' (and tests') orders.
    """

    prefix: str = ""

    async def _decide(self, order_id: str) -> None:
        if order_id.startswith(self.prefix):
            await super()._decide(order_id)

    async def _send(self, decision: OrderDecision) -> None:
        if decision.order_id.startswith(self.prefix):
            await super()._send(decision)

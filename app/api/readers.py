"""What the API reads state from: replicas of the tables, as typed protocols."""

from collections.abc import Callable
from typing import Protocol

from tables.order.value import Order
from tables.stock.value import SkuStock


class StockReader(Protocol):
    """A replica of the stock table."""

    @property
    def ready(self) -> bool: ...

    def get(self, key: bytes) -> tuple[SkuStock, int] | None: ...


class OrderReader(Protocol):
    """A replica of the order table, with waits for read-your-writes and long-polls.

    `read` may go to Kafka for an order that left memory (closed long ago).
    """

    @property
    def ready(self) -> bool: ...

    async def read(self, key: bytes, within: float) -> Order | None: ...

    async def wait_until(
        self,
        key: bytes,
        accept: Callable[[Order | None], bool],
        within: float,
        pending: Callable[[bytes], bool] | None = None,
    ) -> Order | None: ...

    async def sync(self, within: float) -> bool: ...

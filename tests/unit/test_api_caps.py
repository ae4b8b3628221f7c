"""Waiting requests are capped per worker: one more long poll or sync is 503, not queued."""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.api.gates import ApiLimits, Gate
from app.errors import Overloaded
from tables.order.value import Order
from tests.support.api import MemoryOrders, api
from tests.support.polling import eventually

ORDER = b'{"customer_id":"C-42","channel":"web","lines":[{"line_no":1,"sku":"SKU-1","qty":2}]}'
JSON = {"Content-Type": "application/json"}
PROBLEM = "application/problem+json"


def test_a_gate_refuses_beyond_its_limit_and_frees_its_place_on_exit() -> None:
    # Given a gate of 2
    gate = Gate("long polls", 2)
    # When 2 are inside, Then a third is refused with Retry-After
    with gate.enter(), gate.enter(), pytest.raises(Overloaded) as refused, gate.enter():
        pass
    assert refused.value.headers["Retry-After"] == "1"
    # And once they left (even by an exception), there is room again
    with pytest.raises(RuntimeError), gate.enter():
        raise RuntimeError("the handler failed")
    assert gate.held == 0


class SlowOrders(MemoryOrders):
    """Orders whose long polls and syncs wait until released."""

    def __init__(self, slow_syncs: bool) -> None:
        super().__init__()
        self.slow_syncs = slow_syncs
        self.release = asyncio.Event()

    async def wait_until(
        self,
        key: bytes,
        accept: Callable[[Order | None], bool],
        within: float,
        pending: Callable[[bytes], bool] | None = None,
    ) -> Order | None:
        if accept(self.values.get(key)):  # e.g. the POST's own wait for its order to show
            return self.values.get(key)
        await self.release.wait()
        return self.values.get(key)

    async def sync(self, within: float) -> bool:
        if self.slow_syncs:
            await self.release.wait()
        return True


async def test_a_long_poll_beyond_the_cap_is_503_and_the_held_ones_are_answered(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given an API that holds at most one long poll, and an order
    orders = SlowOrders(slow_syncs=False)
    limits = ApiLimits(Gate("long polls", 1), Gate("syncs", 8), 10.0)
    client: TestClient = await aiohttp_client(api(tmp_path, orders=orders, limits=limits))
    order_id = (await (await client.post("/v1/orders", data=ORDER, headers=JSON)).json())[
        "order_id"
    ]
    waiting = f"/v1/orders/{order_id}?wait_for=SHIPPED&timeout=30"
    # When one long poll is held and a second arrives
    held = asyncio.ensure_future(client.get(waiting))
    await _until(lambda: limits.long_polls.held == 1)
    refused = await client.get(waiting)
    # Then the second is 503 problem+json with Retry-After, while a plain read still works
    assert (refused.status, refused.content_type) == (503, PROBLEM)
    assert refused.headers["Retry-After"] == "1"
    assert (await client.get(f"/v1/orders/{order_id}")).status == 200
    # And the held one is answered when its wait ends, freeing its place
    orders.release.set()
    assert (await held).status == 200
    assert limits.long_polls.held == 0


async def test_a_sync_beyond_the_cap_is_503(aiohttp_client: Any, tmp_path: Path) -> None:
    # Given an API that runs at most one read-your-writes sync at once
    orders = SlowOrders(slow_syncs=True)
    limits = ApiLimits(Gate("long polls", 8), Gate("syncs", 1), 10.0)
    client: TestClient = await aiohttp_client(api(tmp_path, orders=orders, limits=limits))
    # When two reads of orders this worker has not mirrored arrive together
    first = asyncio.ensure_future(client.get("/v1/orders/SO-UNSEEN-1"))
    await _until(lambda: limits.syncs.held == 1)
    second = await client.get("/v1/orders/SO-UNSEEN-2")
    # Then the second is 503 with Retry-After, and the first is answered once synced
    assert (second.status, second.headers["Retry-After"]) == (503, "1")
    orders.release.set()
    assert (await first).status == 404


async def _until(condition: Callable[[], bool]) -> None:
    async def probe() -> bool:
        return condition()

    await eventually(probe, bool, within=5, every=0.01)

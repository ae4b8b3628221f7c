"""Two customers may use the same order id: neither learns of, takes or touches the other's."""

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.api import MemoryOrders, api

ACME, GLOBEX, SHOP = "acme-token-0123456789", "globex-token-0123456789", "shop-token-0123456789"
TOKENS = [
    {"token": ACME, "scopes": ["orders:read", "orders:write"], "customer_id": "C-ACME"},
    {"token": GLOBEX, "scopes": ["orders:read", "orders:write"], "customer_id": "C-GLOBEX"},
    {"token": SHOP, "scopes": ["orders:read", "orders:write"]},
]


def order(customer: str, order_id: str, qty: int = 1) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": customer,
        "channel": "b2b",
        "lines": [{"line_no": 1, "sku": "SKU-1", "qty": qty}],
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Gateway:
    """The API on in-memory orders, called with one token or another."""

    def __init__(self, client: TestClient, orders: MemoryOrders) -> None:
        self.client, self.orders = client, orders

    async def submit(self, token: str, body: dict[str, Any]) -> tuple[int, Any]:
        response = await self.client.post("/v1/orders", json=body, headers=bearer(token))
        return response.status, await response.json(content_type=None)

    async def get(self, token: str, order_id: str) -> tuple[int, Any]:
        response = await self.client.get(f"/v1/orders/{order_id}", headers=bearer(token))
        return response.status, await response.json(content_type=None)

    async def cancel(self, token: str, order_id: str) -> tuple[int, Any]:
        path = f"/v1/orders/{order_id}/cancel"
        response = await self.client.post(path, headers=bearer(token))
        return response.status, await response.json(content_type=None)


@pytest.fixture
async def gateway(aiohttp_client: Any, tmp_path: Path) -> Gateway:
    orders = MemoryOrders()
    return Gateway(await aiohttp_client(api(tmp_path, TOKENS, orders)), orders)


async def test_two_customers_each_get_their_own_order_under_the_same_id(gateway: Gateway) -> None:
    # Given Globex placed PO-1001 for 5 units
    assert (await gateway.submit(GLOBEX, order("C-GLOBEX", "PO-1001", qty=5)))[0] == 202
    # When Acme places its own PO-1001 for 2 units
    status, accepted = await gateway.submit(ACME, order("C-ACME", "PO-1001", qty=2))
    # Then Acme's is accepted under the id it gave, not refused as "already submitted"
    assert (status, accepted["order_id"]) == (202, "PO-1001")
    # And each customer reads only its own order under that id
    _, acme = await gateway.get(ACME, "PO-1001")
    _, globex = await gateway.get(GLOBEX, "PO-1001")
    assert (acme["order_id"], acme["customer_id"], acme["lines"][0]["qty"]) == (
        "PO-1001",
        "C-ACME",
        2,
    )
    assert (globex["order_id"], globex["customer_id"], globex["lines"][0]["qty"]) == (
        "PO-1001",
        "C-GLOBEX",
        5,
    )
    # And they are two orders
    assert len(gateway.orders.values) == 2


async def test_another_customers_order_id_answers_as_if_it_did_not_exist(
    gateway: Gateway,
) -> None:
    # Given Globex placed PO-7
    await gateway.submit(GLOBEX, order("C-GLOBEX", "PO-7"))
    # When Acme reads and cancels PO-7, and an id nobody used
    taken = [await gateway.get(ACME, "PO-7"), await gateway.cancel(ACME, "PO-7")]
    unused = [await gateway.get(ACME, "PO-8"), await gateway.cancel(ACME, "PO-8")]
    # Then both are the same 404, apart from the id named
    for (status, body), (unused_status, unused_body) in zip(taken, unused, strict=True):
        assert (status, unused_status) == (404, 404)
        assert body["detail"].replace("PO-7", "PO-8") == unused_body["detail"]
    # And Globex's order was not cancelled
    assert (await gateway.get(GLOBEX, "PO-7"))[1]["status"] == "SUBMITTED"


async def test_a_retry_gets_the_first_answer_and_a_changed_body_is_refused(
    gateway: Gateway,
) -> None:
    # Given Globex and Acme both placed PO-1 (Globex first)
    await gateway.submit(GLOBEX, order("C-GLOBEX", "PO-1", qty=9))
    _, first = await gateway.submit(ACME, order("C-ACME", "PO-1"))
    # When Acme sends the same order again, then a different one under the same id
    again = await gateway.submit(ACME, order("C-ACME", "PO-1"))
    changed = await gateway.submit(ACME, order("C-ACME", "PO-1", qty=3))
    # Then the retry gets the first answer, and the change is refused for Acme's own order
    assert again == (202, first)
    assert changed[0] == 422
    assert len(gateway.orders.values) == 2


async def test_a_bound_token_sees_and_cancels_the_order_the_shop_placed_for_it(
    gateway: Gateway,
) -> None:
    # Given the shop-wide token placed SO-55 for Acme
    assert (await gateway.submit(SHOP, order("C-ACME", "SO-55")))[0] == 202
    # When Acme sends the same order under that id, reads it and cancels it
    resent = await gateway.submit(ACME, order("C-ACME", "SO-55"))
    status, read = await gateway.get(ACME, "SO-55")
    cancelled = await gateway.cancel(ACME, "SO-55")
    # Then it is the same one order, Acme's, and it is cancelled
    assert resent[0] == 202
    assert (status, read["customer_id"]) == (200, "C-ACME")
    assert cancelled[0] == 202
    assert (await gateway.get(SHOP, "SO-55"))[1]["status"] == "CANCELLED"
    assert len(gateway.orders.values) == 1


async def test_cancelling_a_shared_id_cancels_only_the_callers_order(gateway: Gateway) -> None:
    # Given both customers placed PO-3
    await gateway.submit(ACME, order("C-ACME", "PO-3"))
    await gateway.submit(GLOBEX, order("C-GLOBEX", "PO-3"))
    # When Acme cancels PO-3
    status, body = await gateway.cancel(ACME, "PO-3")
    # Then Acme's is cancelled, under the id Acme gave, and Globex's is untouched
    assert (status, body["order_id"]) == (202, "PO-3")
    assert (await gateway.get(ACME, "PO-3"))[1]["status"] == "CANCELLED"
    assert (await gateway.get(GLOBEX, "PO-3"))[1]["status"] == "SUBMITTED"

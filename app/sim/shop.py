"""A web-shop simulator: shoppers look at ATP, check their basket, order, and sometimes cancel.

It talks to the gateway's HTTP API only, as a shop would, and keeps what the API answered:
the answer to each cancel is part of the truth the demo checks the gateway against. Calls
are retried while the gateway is not ready (503) or unreachable; placing an order names its
id, so a retry is the same order.
"""

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import msgspec

from app.sim.truth import picked_wholly_short, rests_partly_shipped, wholly_backordered
from protocols.orders import OrderStatus
from tables.order.value import status_reached

RETRY_FOR = 60.0  # how long a call is retried while the gateway answers 503 or not at all
WAIT_FOR = 90.0  # how long a shopper waits for an order to reach the status to cancel in
LONG_POLL = 20  # seconds a GET waits for a status
BACKORDERED = "BACKORDERED"  # cancel_at: cancel only if the order rests wholly backordered
REMAINDER = "REMAINDER"  # cancel_at: cancel what did not ship once the order rests partly shipped

Answer = tuple[int, Any]


class ShopError(Exception):
    """The gateway refused a call the shop made in good faith, or never answered it."""


@dataclass(frozen=True)
class Visit:
    """One shopper: the SKUs they look at, their order, and the status they cancel it in."""

    order_id: str
    customer_id: str
    channel: str
    lines: tuple[tuple[str, int], ...]
    backorder: Literal["reject", "allow"] = "reject"
    looks: tuple[str, ...] = ()
    cancel_at: str | None = None  # an order status, BACKORDERED or REMAINDER

    def body(self) -> dict[str, Any]:
        """The order as POST /v1/orders takes it."""
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "backorder": self.backorder,
            "lines": [
                {"line_no": number, "sku": sku, "qty": qty}
                for number, (sku, qty) in enumerate(self.lines, 1)
            ],
        }


@dataclass
class WebShop:
    """Shoppers against one gateway URL; counts what they did and keeps the cancel answers."""

    url: str
    http: aiohttp.ClientSession
    looks: int = 0
    checks: int = 0
    placed: list[str] = field(default_factory=list)
    ordered: dict[str, int] = field(default_factory=dict)  # order id -> units ordered
    quantities: dict[str, tuple[int, ...]] = field(default_factory=dict)  # units per line
    cancels: dict[str, int] = field(default_factory=dict)  # order id -> 202 or 409
    remainders: set[str] = field(default_factory=set)  # cancels of what had not shipped
    skipped_cancels: list[str] = field(default_factory=list)

    async def visit(self, visit: Visit) -> None:
        """Look, check the basket, order; then cancel if the visit says so."""
        for sku in visit.looks:
            await self.atp(sku)
            self.looks += 1
        await self.check(visit.lines)
        self.checks += 1
        await self.place(visit)
        if visit.cancel_at is not None:
            await self._cancel_in(visit.order_id, visit.cancel_at)

    async def atp(self, sku: str) -> Any:
        """GET /v1/atp/{sku}: the position per warehouse, or None for a SKU never seen."""
        status, body = await self._call("GET", f"/v1/atp/{sku}", expect=(200, 404))
        return body if status == 200 else None

    async def check(self, lines: tuple[tuple[str, int], ...]) -> Any:
        """POST /v1/atp/check for a basket."""
        basket = {"lines": [{"sku": sku, "qty": qty} for sku, qty in lines]}
        _, body = await self._call("POST", "/v1/atp/check", json=basket, expect=(200,))
        return body

    async def place(self, visit: Visit) -> None:
        """POST /v1/orders (the id names the order, so a retry places it once)."""
        await self._call("POST", "/v1/orders", json=visit.body(), expect=(202,))
        self.placed.append(visit.order_id)
        self.ordered[visit.order_id] = sum(qty for _, qty in visit.lines)
        self.quantities[visit.order_id] = tuple(qty for _, qty in visit.lines)

    async def order(self, order_id: str, wait_for: str | None = None) -> Any:
        """GET /v1/orders/{id} (None: unknown), held up to LONG_POLL s until `wait_for` or later."""
        query = "" if wait_for is None else f"?wait_for={wait_for}&timeout={LONG_POLL}"
        status, body = await self._call("GET", f"/v1/orders/{order_id}{query}", expect=(200, 404))
        return body if status == 200 else None

    async def cancel(self, order_id: str) -> int:
        """POST /v1/orders/{id}/cancel: 202 accepted, 409 too late; the answer is kept."""
        status, _ = await self._call("POST", f"/v1/orders/{order_id}/cancel", expect=(202, 409))
        self.cancels[order_id] = status
        return status

    async def _cancel_in(self, order_id: str, cancel_at: str) -> None:
        """Cancel once the order reached `cancel_at` (or later, or final); skip if it never does."""
        wanted = _waited_for(cancel_at)
        order = await self.order(order_id)
        deadline = time.monotonic() + WAIT_FOR
        while order is None or not _reached(order, cancel_at, wanted):
            if time.monotonic() > deadline:
                self.skipped_cancels.append(order_id)
                return
            order = await self.order(order_id, wait_for=wanted)
        if cancel_at == BACKORDERED and not wholly_backordered(order):
            return
        if cancel_at == REMAINDER:
            if not rests_partly_shipped(order):
                return
            self.remainders.add(order_id)
        await self.cancel(order_id)

    async def _call(
        self, method: str, path: str, expect: tuple[int, ...], json: Any = None
    ) -> Answer:
        """One call, retried on 503 and connection errors; any other unexpected answer raises."""
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                status, body = await self._once(method, path, json)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, body = 0, str(exc)
            if status in expect:
                return status, body
            if status not in (0, 503) or time.monotonic() > deadline:
                raise ShopError(f"{method} {path} answered {status}: {body}")
            await asyncio.sleep(0.5)

    async def _once(self, method: str, path: str, json: Any) -> Answer:
        async with self.http.request(method, self.url + path, json=json) as response:
            raw = await response.read()
            return response.status, _decoded(raw)


def _waited_for(cancel_at: str) -> OrderStatus:
    """The status a shopper waits for before cancelling in `cancel_at`."""
    if cancel_at == BACKORDERED:
        return OrderStatus.CONFIRMED
    if cancel_at == REMAINDER:
        return OrderStatus.PARTIALLY_SHIPPED
    return OrderStatus(cancel_at)


def _reached(order: Mapping[str, Any], cancel_at: str, wanted: OrderStatus) -> bool:
    """Whether the wait is over: `wanted` or later, or (for a remainder) nothing shipped at all."""
    if status_reached(OrderStatus(order["status"]), wanted):
        return True
    return cancel_at == REMAINDER and picked_wholly_short(order)


def _decoded(raw: bytes) -> Mapping[str, Any] | None:
    try:
        body: Mapping[str, Any] | None = msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError:
        return None
    return body

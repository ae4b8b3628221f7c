"""Settling: read the gateway until it agrees with the simulators' truth, or the deadline passes."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.demo.check import (
    Finding,
    agrees,
    check_closings,
    check_orders,
    check_stock,
    overdrawn,
)
from app.sim.erp import ErpSimulator
from app.sim.shop import WebShop
from app.sim.truth import (
    Expected,
    OrderFacts,
    StockLedger,
    WarehouseFacts,
    expected_status,
    shipped_by_line,
    stock_ledger,
    warehouse_facts,
)
from app.sim.wms import WmsSimulator

READERS = 12  # requests in flight while reading the gateway
ROUND_EVERY = 1.0
Json = Mapping[str, Any]


@dataclass(frozen=True)
class Truth:
    """What the simulators say right now: each order's end, and the stock."""

    orders: dict[str, Expected]
    stock: StockLedger


def truth_of(shop: WebShop, wms: WmsSimulator, erp: ErpSimulator) -> Truth:
    """The simulators' truth from what each of them did so far."""
    messages = [sent.message for sent in wms.sent]
    facts = warehouse_facts(wms.releases, wms.cancels, messages)
    shipped = shipped_by_line(messages)
    orders = {
        order_id: expected_status(
            OrderFacts(
                erp=tuple(erp.decisions.get(order_id, ())),
                cancel=shop.cancels.get(order_id),
                warehouses=facts.get(order_id, WarehouseFacts()),
                ordered=shop.ordered.get(order_id, 0),
                undecided=order_id in erp.undecided,
                remainder=order_id in shop.remainders,
                quantities=shop.quantities.get(order_id, ()),
                shipped=shipped.get(order_id, {}),
            )
        )
        for order_id in shop.placed
    }
    return Truth(orders, stock_ledger(messages))


@dataclass(frozen=True)
class Verdict:
    """The last reading of the gateway, and what disagreed in it."""

    findings: list[Finding]
    orders: dict[str, Json | None]
    stock: dict[str, Json | None]
    truth: Truth


def compare(
    orders: Mapping[str, Json | None],
    stock: Mapping[str, Json | None],
    closings: Mapping[str, tuple[str, str]],
    truth: Truth,
) -> list[Finding]:
    """Every disagreement between a reading of the gateway (and its cancel events) and the truth."""
    return [
        *check_orders(orders, truth.orders),
        *check_closings(orders, closings, truth.orders),
        *check_stock(stock, truth.stock.positions),
        *overdrawn(truth.stock.overdrawn),
    ]


async def settle(
    shop: WebShop,
    current: Callable[[], Truth],
    skus: Iterable[str],
    closings: Mapping[str, tuple[str, str]],
    within: float,
    progress: Callable[[str], None],
) -> Verdict:
    """Read until everything agrees (confirmed by one full read) or `within` seconds pass.

    `closings` is the live record of the cancel events orders.events carried (the watcher's).
    """
    deadline = time.monotonic() + within
    orders: dict[str, Json | None] = {}
    pending, full = list(shop.placed), True
    while True:
        orders |= await read_orders(shop, list(shop.placed) if full else pending)
        stock = await read_stock(shop, skus)
        truth = current()
        findings = compare(orders, stock, closings, truth)
        if not findings and full:
            return Verdict(findings, orders, stock, truth)
        if time.monotonic() > deadline:
            return Verdict(findings, orders, stock, truth)
        named = {finding.subject for finding in findings}
        pending = [
            i
            for i in shop.placed
            if not agrees(orders.get(i), truth.orders[i]) or f"order {i}" in named
        ]
        positions = sum(1 for finding in findings if not finding.subject.startswith("order "))
        progress(f"settling: {len(pending)} orders and {positions} stock positions still moving")
        full = not findings
        if findings:
            await asyncio.sleep(ROUND_EVERY)


async def read_orders(shop: WebShop, order_ids: Iterable[str]) -> dict[str, Json | None]:
    """GET every order."""
    return await _read(shop.order, order_ids)


async def read_stock(shop: WebShop, skus: Iterable[str]) -> dict[str, Json | None]:
    """GET /v1/atp for every SKU (None: never seen)."""
    return await _read(shop.atp, skus)


async def _read(
    get: Callable[[str], Awaitable[Any]], keys: Iterable[str]
) -> dict[str, Json | None]:
    gate = asyncio.Semaphore(READERS)

    async def one(key: str) -> tuple[str, Json | None]:
        async with gate:
            return key, await get(key)

    return dict(await asyncio.gather(*(one(key) for key in keys)))

"""The end of a bench run: the gateway's state against what the load itself knows.

The oracle is independent of the gateway's tables: on hand per SKU and warehouse is
what the simulated warehouses published and RabbitMQ confirmed; reserved is the sum of
what every accepted order says it holds. Stock keeps moving for a moment after the
load stops (compensations, the last bridged receipts), so the stock checks are retried
until they hold or `within` seconds passed; the mismatches left then are reported.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import aiohttp

Position = tuple[str, str]  # (sku, warehouse)
FETCH_CONCURRENCY = 32
SHOWN = 5


async def verify(
    urls: Sequence[str],
    order_ids: Sequence[str],
    on_hand: Mapping[Position, int],
    within: float,
) -> list[dict[str, Any]]:
    """The checks, each {"name", "ok", "detail"}."""
    connector = aiohttp.TCPConnector(limit=FETCH_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        orders = await fetch_all(http, urls, [f"/v1/orders/{o}" for o in order_ids])
        held = reservations(orders.values())
        skus = sorted({sku for sku, _ in on_hand} | {sku for sku, _ in held})
        deadline = time.monotonic() + within
        while True:
            atp = await fetch_all(http, urls, [f"/v1/atp/{sku}" for sku in skus])
            figures = positions(atp.values())
            checks = stock_checks(figures, on_hand, held)
            if all(check["ok"] for check in checks) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
    return [_orders_check(order_ids, orders), *checks]


def reservations(orders: Iterable[Any]) -> Counter[Position]:
    """Units every order's lines hold, per SKU and warehouse."""
    held: Counter[Position] = Counter()
    for order in orders:
        if not isinstance(order, dict):
            continue
        for line in order.get("lines", ()):
            for fill in line.get("fills", ()):
                held[(line["sku"], fill["warehouse"])] += fill.get("reserved", 0)
    return held


def positions(answers: Iterable[Any]) -> dict[Position, dict[str, int]]:
    """Every warehouse position of the ATP answers."""
    found: dict[Position, dict[str, int]] = {}
    for answer in answers:
        if isinstance(answer, dict):
            for position in answer.get("warehouses", ()):
                found[(answer["sku"], position["warehouse"])] = position
    return found


def stock_checks(
    figures: Mapping[Position, Mapping[str, int]],
    on_hand: Mapping[Position, int],
    held: Mapping[Position, int],
) -> list[dict[str, Any]]:
    """On hand as the warehouses said, reserved as the orders say, nothing oversold."""
    wrong_on_hand = [
        f"{sku}@{wh}: {figures.get((sku, wh), {}).get('on_hand')} != {qty}"
        for (sku, wh), qty in sorted(on_hand.items())
        if figures.get((sku, wh), {}).get("on_hand") != qty
    ]
    wrong_reserved = [
        f"{sku}@{wh}: {position.get('reserved')} != {held.get((sku, wh), 0)}"
        for (sku, wh), position in sorted(figures.items())
        if position.get("reserved", 0) != held.get((sku, wh), 0)
    ]
    oversold = [
        f"{sku}@{wh}: {position}"
        for (sku, wh), position in sorted(figures.items())
        if _committed(position) > position.get("on_hand", 0) or position.get("atp", 0) < 0
    ]
    return [
        _check("on hand equals what the warehouses reported", wrong_on_hand, len(on_hand)),
        _check("reserved equals what the orders hold", wrong_reserved, len(figures)),
        _check(
            "nothing oversold (reserved + allocated + blocked <= on hand)", oversold, len(figures)
        ),
    ]


def _committed(position: Mapping[str, int]) -> int:
    return position.get("reserved", 0) + position.get("allocated", 0) + position.get("blocked", 0)


def _orders_check(order_ids: Sequence[str], orders: Mapping[str, Any]) -> dict[str, Any]:
    undecided = [
        f"{path.rsplit('/', 1)[-1]}: {order if not isinstance(order, dict) else order['status']}"
        for path, order in orders.items()
        if not isinstance(order, dict) or order.get("status") == "SUBMITTED"
    ]
    return _check("every accepted order is readable and decided", undecided, len(order_ids))


def _check(name: str, problems: list[str], total: int) -> dict[str, Any]:
    if not problems:
        return {"name": name, "ok": True, "detail": f"{total:,} checked"}
    shown = "; ".join(problems[:SHOWN])
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    return {"name": name, "ok": False, "detail": f"{len(problems)} of {total:,}: {shown}{more}"}


async def fetch_all(
    http: aiohttp.ClientSession, urls: Sequence[str], paths: Sequence[str]
) -> dict[str, Any]:
    """path -> JSON body, or the HTTP status when it was not 200; round-robin over workers."""
    answers = await asyncio.gather(
        *(_fetch(http, urls[n % len(urls)] + path) for n, path in enumerate(paths))
    )
    return dict(zip(paths, answers, strict=True))


async def _fetch(http: aiohttp.ClientSession, url: str) -> Any:
    for _attempt in range(5):
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return await response.json()
                if response.status != 503:
                    return response.status
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(1.0)
    return "unreachable"

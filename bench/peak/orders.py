"""Order capacity: a closed loop keeping `in_flight` orders between POST and their decision.

Each loop POSTs an order and long-polls it until the reservation is decided, then sends
the next, as `python -m bench.orders` does. No order is sent after `seconds`. Capacity is
the decisions per second from the first decision to the end of those seconds: before it
the loops are filling up, after it they drain.
"""

import asyncio
import itertools
import time
from typing import Any

from bench.load.openloop import Fire
from bench.peak.shop import Shop


async def order_capacity(shop: Shop, in_flight: int, seconds: float) -> dict[str, Any]:
    """Run the loop on `shop` (its own recorder and accepted ids); the figures."""
    started = time.perf_counter()
    shop.orders.started = started
    await closed_loop(shop.order, in_flight, started + seconds)
    elapsed = time.perf_counter() - started
    summary = shop.orders.summary(elapsed)
    return {
        "in_flight": in_flight,
        "seconds": elapsed,
        "completed": summary["count"],
        "capacity_per_s": steady_rate(shop.orders.finished_at, seconds),
        "errors": summary["errors"],
        "error_kinds": summary["error_kinds"],
        "latency_ms": summary["latency_ms"],
    }


async def closed_loop(fire: Fire, in_flight: int, deadline: float) -> None:
    """`in_flight` loops, each firing its next request once the last finished, until `deadline`."""
    numbers = itertools.count()

    async def loop() -> None:
        while (now := time.perf_counter()) < deadline:
            await fire(now, next(numbers))

    await asyncio.gather(*(loop() for _ in range(in_flight)))


def steady_rate(finished_at: list[float], seconds: float) -> float | None:
    """Completions per second after the first one, up to `seconds` (None: fewer than two)."""
    inside = sorted(at for at in finished_at if at < seconds)
    if len(inside) < 2 or inside[0] >= seconds:
        return None
    return (len(inside) - 1) / (seconds - inside[0])

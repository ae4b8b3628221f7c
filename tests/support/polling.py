"""Wait for an eventually-consistent answer without sleeping blindly."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    within: float = 30.0,
    every: float = 0.1,
) -> T:
    """Call `probe` until `accept(result)`; fail with the last result after `within` seconds."""
    deadline = time.monotonic() + within
    result = await probe()
    while not accept(result):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s; last: {result!r}")
        await asyncio.sleep(every)
        result = await probe()
    return result

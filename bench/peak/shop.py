"""The web shops' side of the peak: ATP reads, ATP checks and orders over HTTP.

Requests go round-robin over the workers. An order counts from its POST to the
reservation decision (RESERVED, BACKORDERED or REJECTED) seen through `wait_for`;
every accepted order id is kept for the oracle.
"""

import itertools
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.load.recorder import Recorder

UNDECIDED = {"SUBMITTED"}
WAIT_S = 30


@dataclass
class Shop:
    """Many shoppers over `skus` (hottest first, picked by `weights`) against `urls`."""

    urls: Sequence[str]
    skus: Sequence[str]
    weights: Sequence[float]
    http: aiohttp.ClientSession
    order_http: aiohttp.ClientSession  # apart, so long polls never hold up ATP reads
    seed: int = 1
    # the bench's own order ids start with it, so its simulated WMS and ERP answer only them
    order_prefix: str = ""
    atp_get: Recorder = field(default_factory=lambda: Recorder("atp_get", "ATP GET /v1/atp/{sku}"))
    atp_check: Recorder = field(
        default_factory=lambda: Recorder("atp_check", "ATP POST /v1/atp/check")
    )
    orders: Recorder = field(
        default_factory=lambda: Recorder("order_reserved", "order POST to reservation decided")
    )
    accepted: list[str] = field(default_factory=list)
    # 5xx answers; 503s, and those 503s that said Retry-After (the contract's only 5xx)
    http_errors: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._next_url = itertools.cycle(self.urls)
        self._cumulative = list(itertools.accumulate(self.weights))
        self._order_numbers = itertools.count(1)

    def _sku(self) -> str:
        return self._rng.choices(self.skus, cum_weights=self._cumulative)[0]

    async def get_atp(self, scheduled: float, _number: int) -> None:
        """GET one skewed SKU's ATP."""
        url = f"{next(self._next_url)}/v1/atp/{self._sku()}"
        await self._timed(self.atp_get, scheduled, self.http.get(url))

    async def check_atp(self, scheduled: float, _number: int) -> None:
        """POST a 1-3 line check."""
        lines = [{"sku": sku, "qty": self._rng.randint(1, 5)} for sku in self._distinct(1, 3)]
        url = f"{next(self._next_url)}/v1/atp/check"
        await self._timed(self.atp_check, scheduled, self.http.post(url, json={"lines": lines}))

    async def order(self, scheduled: float, number: int) -> None:
        """POST an order (web 1-3 lines, 1 in 10 B2B of 5-20), then wait for its decision."""
        url = next(self._next_url)
        try:
            order_id = await self._submit(url, self._order_body(number))
            if order_id is None:
                return
            status = await self._decision(url, order_id)
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.orders.failed(type(exc).__name__)
            return
        if status in UNDECIDED:
            self.orders.failed("undecided")
        else:
            self.orders.ok(scheduled)

    async def _submit(self, url: str, body: dict[str, Any]) -> str | None:
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        post = self.order_http.post(f"{url}/v1/orders", json=body, headers=headers)
        async with post as response:
            self._count_error(response)
            answer = await response.json(content_type=None)
            if response.status != 202:
                self.orders.failed(str(response.status))
                return None
        order_id = str(answer["order_id"])
        self.accepted.append(order_id)
        return order_id

    async def _decision(self, url: str, order_id: str) -> str:
        path = f"{url}/v1/orders/{order_id}?wait_for=RESERVED&timeout={WAIT_S}"
        async with self.order_http.get(path) as response:
            self._count_error(response)
            return str((await response.json(content_type=None)).get("status", "SUBMITTED"))

    def _order_body(self, number: int) -> dict[str, Any]:
        b2b = self._rng.random() < 0.1
        skus = self._distinct(5, 20) if b2b else self._distinct(1, 3)
        lines = [
            {"line_no": n, "sku": sku, "qty": self._rng.randint(1, 10 if b2b else 3)}
            for n, sku in enumerate(skus, 1)
        ]
        return {
            "order_id": f"{self.order_prefix}{self.seed}-{next(self._order_numbers)}",
            "customer_id": f"C-{number % 997}",
            "channel": "b2b" if b2b else "web",
            "backorder": "allow" if self._rng.random() < 0.1 else "reject",
            "lines": lines,
        }

    def _distinct(self, low: int, high: int) -> list[str]:
        wanted = self._rng.randint(low, min(high, len(self.skus)))
        chosen: dict[str, None] = {}
        while len(chosen) < wanted:
            chosen[self._sku()] = None
        return list(chosen)

    def _count_error(self, response: aiohttp.ClientResponse) -> None:
        if response.status >= 500:
            self.http_errors["5xx"] += 1
        if response.status == 503:
            self.http_errors["503"] += 1
            self.http_errors["503_retry_after"] += "Retry-After" in response.headers

    async def _timed(self, recorder: Recorder, scheduled: float, request: Any) -> None:
        try:
            async with request as response:
                self._count_error(response)
                await response.read()
                if response.status == 200:
                    recorder.ok(scheduled)
                else:
                    recorder.failed(str(response.status))
        except (TimeoutError, aiohttp.ClientError) as exc:
            recorder.failed(type(exc).__name__)

"""The HTTP API without brokers: orders in memory, and a Kafka that applies what it is sent."""

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

from app.api.auth import load_tokens
from app.api.factory import ApiState, create_api
from app.api.gates import ApiLimits
from app.broker_access import KafkaAccess
from app.commands import CommandProducer
from app.metrics import Metrics
from app.readiness import Readiness
from app.settings import Settings
from protocols.topics import OrderInboxMessage, Topics
from tables.order.apply import apply
from tables.order.value import Order
from tables.stock.value import SkuStock

_inbox = msgspec.json.Decoder(OrderInboxMessage)


class MemoryOrders:
    """The order mirror, always caught up."""

    ready = True

    def __init__(self) -> None:
        self.values: dict[bytes, Order] = {}

    async def read(self, key: bytes, within: float) -> Order | None:
        return self.values.get(key)

    async def wait_until(
        self,
        key: bytes,
        accept: Callable[[Order | None], bool],
        within: float,
        pending: Callable[[bytes], bool] | None = None,
    ) -> Order | None:
        return self.values.get(key)

    async def sync(self, within: float) -> bool:
        return True


class MemoryStock:
    """The stock mirror, always caught up: SKU values by key."""

    ready = True

    def __init__(self, *values: SkuStock) -> None:
        self.values = {value.sku.encode(): value for value in values}

    def get(self, key: bytes) -> tuple[SkuStock, int] | None:
        value = self.values.get(key)
        return None if value is None else (value, 0)


class ApplyingKafka:
    """Kafka and the order agent in one: each command is applied as it is acknowledged."""

    def __init__(self, orders: MemoryOrders) -> None:
        self.orders = orders
        self.offset = 0
        self.headers: list[list[tuple[str, bytes]]] = []  # of each command, in order

    async def send_and_wait(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        self.offset += 1
        self.headers.append(headers)
        now = dt.datetime.now(dt.UTC)
        applied = apply(self.orders.values.get(key), _inbox.decode(value), self.offset, now, False)
        self.orders.values[key] = applied.order


class FailingKafka:
    """A Kafka that cannot be reached: every send raises `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def send_and_wait(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        raise self.error


def command_producer(kafka: Any) -> CommandProducer:
    """The API's command producer, sending through `kafka` instead of a started client."""
    producer = CommandProducer(KafkaAccess("127.0.0.1:1"), Topics.for_app("distgate").order_inbox)
    producer._producer = kafka
    return producer


def api(
    tmp_path: Path,
    tokens: list[dict[str, Any]] | None = None,
    orders: MemoryOrders | None = None,
    kafka: Any = None,
    dead_letters: Any = None,
    limits: ApiLimits | None = None,
    stock: MemoryStock | None = None,
    zone: dt.tzinfo = dt.UTC,
    traces: Any = None,
) -> web.Application:
    """The API as a worker builds it, on in-memory orders; open when `tokens` is None."""
    path = None
    if tokens is not None:
        path = tmp_path / "tokens.json"
        path.write_text(json.dumps(tokens))
    orders = orders or MemoryOrders()
    commands = command_producer(kafka or ApplyingKafka(orders))
    state = ApiState(
        load_tokens(path), Metrics(), Readiness(), stock, orders, commands, dead_letters,
        limits=limits or ApiLimits.of(Settings()), zone=zone, traces=traces,
    )  # type: ignore[arg-type]  # fmt: skip
    return create_api(state)

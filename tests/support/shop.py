"""Play the web shop (HTTP), ERP (Kafka) and a WMS (AMQP) against a running gateway."""

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import msgspec

from app.dev.deployments import remove_deployment
from app.dev.workers import WorkerProcess, current_env, worker_env
from app.settings import Settings
from protocols.amqp import WMS_COMMANDS_EXCHANGE, WMS_EVENTS_EXCHANGE
from protocols.erp import OrderDecision
from protocols.inventory import StockReceived
from protocols.topics import ERP_ORDER_DECISIONS
from tests.support.kafka import produce, unique


async def call(url: str, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    """One HTTP request; the JSON body (or None)."""
    async with aiohttp.ClientSession() as http, http.request(method, url + path, **kw) as r:
        body = await r.read()
        return r.status, msgspec.json.decode(body) if body else None


async def submit(url: str, customer: str, lines: list[tuple[str, int]], **extra: Any) -> str:
    """Submit an order of (sku, qty) lines; return its id (asserting 202)."""
    body = {
        "customer_id": customer,
        "channel": "web",
        "lines": [{"line_no": n, "sku": s, "qty": q} for n, (s, q) in enumerate(lines, 1)],
        **extra,
    }
    status, answer = await call(url, "POST", "/v1/orders", json=body)
    assert status == 202, answer
    return str(answer["order_id"])


async def wait_status(url: str, order_id: str, status: str, within: float = 30) -> Any:
    """GET with wait_for; assert the order reached exactly `status`."""
    code, order = await call(
        url, "GET", f"/v1/orders/{order_id}?wait_for={status}&timeout={within}"
    )
    assert code == 200, order
    assert order["status"] == status, order
    return order


async def receive(worker: WorkerProcess, sku: str, warehouse: str, qty: int) -> None:
    """The WMS received stock (as the bridge would put it on the worker's stock inbox)."""
    receipt = StockReceived(
        event_id=unique("rcv"),
        sku=sku,
        warehouse=warehouse,
        occurred_at=dt.datetime.now(dt.UTC),
        qty=qty,
    )
    deployment = worker.settings
    inbox = deployment.topics.stock_inbox.name
    await produce(deployment.kafka_bootstrap, inbox, [(sku.encode(), receipt)])


async def erp_decides(bootstrap: str, decision: OrderDecision) -> None:
    """ERP publishes a decision on its own topic."""
    await produce(bootstrap, ERP_ORDER_DECISIONS.name, [(decision.order_id.encode(), decision)])


class Warehouse:
    """A legacy WMS on AMQP: receives Release/Cancel XML, sends pick and ship confirmations."""

    def __init__(self, amqp_url: str, code: str) -> None:
        self.amqp_url = amqp_url
        self.code = code
        self.inbox: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()

    async def __aenter__(self) -> "Warehouse":
        self.connection = await aio_pika.connect(self.amqp_url)
        channel = await self.connection.channel(publisher_confirms=True)
        commands = await channel.get_exchange(WMS_COMMANDS_EXCHANGE)
        self.events = await channel.get_exchange(WMS_EVENTS_EXCHANGE)
        queue = await channel.declare_queue(
            f"test-{self.code}-{uuid.uuid4().hex[:6]}", auto_delete=True
        )
        for kind in ("release", "cancel"):
            await queue.bind(commands, routing_key=f"{self.code}.{kind}")
        await queue.consume(self.inbox.put, no_ack=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.connection.close()

    async def next_command(self, within: float = 30) -> tuple[str, bytes]:
        """The next Release or Cancel: (routing key, XML body)."""
        message = await asyncio.wait_for(self.inbox.get(), within)
        return message.routing_key or "", message.body

    async def send(self, kind: str, xml: str) -> None:
        """Publish a confirmation as the legacy WMS does."""
        await self.events.publish(
            aio_pika.Message(
                xml.encode(),
                content_type="application/xml",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=uuid.uuid4().hex,
            ),
            routing_key=f"{self.code}.{kind}",
        )

    async def pick(self, order_id: str, lines: list[tuple[int, str, int, int]]) -> None:
        """PickConfirm (no, sku, requested, picked) lines."""
        body = "".join(
            f'<Line no="{n}" sku="{s}" requested="{r}" picked="{p}"/>' for n, s, r, p in lines
        )
        await self.send(
            "pick",
            f'<PickConfirm txn="{unique("P")}" warehouse="{self.code}" '
            f'order="{order_id}">{body}</PickConfirm>',
        )

    async def ship(
        self,
        order_id: str,
        lines: list[tuple[int, str, int]],
        txn: str | None = None,
        tracking: str = "1Z9",
    ) -> None:
        """ShipConfirm (no, sku, qty) lines; the same `txn` twice is the WMS sending it again."""
        body = "".join(f'<Line no="{n}" sku="{s}" qty="{q}"/>' for n, s, q in lines)
        await self.send(
            "ship",
            f'<ShipConfirm txn="{txn or unique("S")}" warehouse="{self.code}" '
            f'order="{order_id}" carrier="UPS" tracking="{tracking}">{body}'
            "</ShipConfirm>",
        )


async def gateway_with_tokens(
    settings: Settings, home: Path, tokens: list[dict[str, Any]]
) -> WorkerProcess:
    """Start a worker (a deployment of its own) that requires these API tokens; wait until ready."""
    tokens_file = home / "tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    env = worker_env(
        current_env(),
        home / "data",
        unique("distgate-test"),
        DISTGATE_KAFKA_URL=settings.kafka_url,
        DISTGATE_AMQP_URL=settings.amqp_url,
        DISTGATE_API_TOKENS_FILE=str(tokens_file),
    )
    worker = WorkerProcess(home.name, env, home / "worker.log")
    worker.start()
    try:
        await worker.wait_ready()
    except BaseException:
        worker.kill()
        raise
    return worker


async def retire(worker: WorkerProcess) -> None:
    """Stop a worker of `gateway_with_tokens` and remove its deployment (topics, queue)."""
    worker.kill()
    deployment = worker.settings
    await remove_deployment(deployment.kafka_bootstrap, deployment.amqp_url, deployment.app_id)

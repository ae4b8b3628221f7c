"""Orders from CRM and web shops: submit, read (with long-poll), cancel (CONTRACT 2.2)."""

import datetime as dt
import hashlib
import re
import uuid

import msgspec
from aiohttp import web
from aiokafka.errors import KafkaError

from app.api.auth import Principal
from app.api.bodies import checked, json_response, read_json
from app.api.keys import COMMANDS, ORDERS, TOKENS
from app.api.middlewares import CORRELATION_ID
from app.api.readers import OrderReader
from app.errors import (
    BrokerUnavailable,
    Conflict,
    Forbidden,
    NotFound,
    NotReady,
    Unprocessable,
)
from protocols.http import (
    ENCODER,
    SUBMIT_ORDER_DECODER,
    FieldError,
    OrderAccepted,
    SubmitOrderRequest,
    validate_order,
)
from protocols.ids import ENTITY_ID_PATTERN
from protocols.order_commands import CancelOrder, SubmitOrder
from protocols.orders import OrderStatus
from protocols.topics import Topics
from tables.orders import Order, cancel_refusal, status_reached

_ORDER_ID = re.compile(ENTITY_ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
MAX_WAIT = 30.0
ACCEPT_WAIT = 10.0  # how long a POST waits for the order to show up before answering anyway
SYNC_WAIT = 5.0


async def submit_order(request: web.Request) -> web.Response:
    """Accept an order once the command is durable in Kafka; retries get the same answer."""
    principal = _authorize(request, "orders:write")
    body = await read_json(request, SUBMIT_ORDER_DECODER)
    if errors := validate_order(body):
        raise Unprocessable("the order breaks the contract", errors)
    if principal.customer_id not in (None, body.customer_id):
        raise Forbidden(f"this token places orders for customer {principal.customer_id} only")
    order_id = body.order_id or _order_id(body, request.headers.get("Idempotency-Key"))
    digest = hashlib.blake2b(msgspec.json.encode(body), digest_size=16).hexdigest()
    orders = _orders(request)
    existing = await _find(orders, order_id)
    if existing is None:
        command = SubmitOrder(
            event_id=f"{order_id}:submit:{digest[:12]}",
            order_id=order_id,
            at=dt.datetime.now(dt.UTC),
            correlation_id=request[CORRELATION_ID],
            customer_id=body.customer_id,
            channel=body.channel,
            lines=body.lines,
            backorder=body.backorder,
            digest=digest,
        )
        await request.app[COMMANDS].send(Topics.ORDER_INBOX, order_id, command)
        existing = await orders.wait_until(order_id.encode(), _exists, ACCEPT_WAIT)
    if existing is not None and existing.digest != digest:
        raise Unprocessable(
            f"order {order_id} was already submitted with a different body",
            [FieldError(loc=("body",), msg="differs from the first submission of this order")],
        )
    correlation_id = existing.correlation_id if existing else request[CORRELATION_ID]
    answer = OrderAccepted(order_id, OrderStatus.SUBMITTED, correlation_id)
    response = json_response(answer, ENCODER, status=202)
    response.headers["Location"] = f"/v1/orders/{order_id}"
    return response


def _order_id(body: SubmitOrderRequest, idempotency_key: str | None) -> str:
    """The key names the order (per customer); without one, a fresh id."""
    if idempotency_key is None:
        return f"o-{uuid.uuid4().hex[:24]}"
    if not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise Unprocessable(
            "invalid Idempotency-Key",
            [FieldError(loc=("header", "Idempotency-Key"), msg="1-200 printable characters")],
        )
    seed = f"{body.customer_id}\0{idempotency_key}".encode()
    return f"o-{hashlib.blake2b(seed, digest_size=12).hexdigest()}"


def _exists(order: Order | None) -> bool:
    return order is not None


async def get_order(request: web.Request) -> web.Response:
    """The order's current state; with `wait_for`, held until that status or `timeout`."""
    principal = _authorize(request, "orders:read")
    order_id = checked(request.match_info["order_id"], _ORDER_ID, ("path", "order_id"), "order id")
    wanted, timeout = _wait_params(request)
    orders = _orders(request)
    order = _visible(await _find(orders, order_id), principal, order_id)
    if wanted is not None and not status_reached(order.status, wanted):
        waited = await orders.wait_until(
            order_id.encode(),
            lambda o: o is not None and status_reached(o.status, wanted),
            timeout,
        )
        order = waited or order
    return json_response(order.view(), ENCODER)


def _wait_params(request: web.Request) -> tuple[OrderStatus | None, float]:
    raw_status, raw_timeout = request.query.get("wait_for"), request.query.get("timeout", "10")
    try:
        wanted = None if raw_status is None else OrderStatus(raw_status)
    except ValueError:
        raise Unprocessable(
            "invalid wait_for",
            [FieldError(loc=("query", "wait_for"), msg=f"one of {', '.join(OrderStatus)}")],
        ) from None
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = -1.0
    if not 0 <= timeout <= MAX_WAIT:
        raise Unprocessable(
            "invalid timeout",
            [FieldError(loc=("query", "timeout"), msg=f"seconds between 0 and {MAX_WAIT:.0f}")],
        )
    return wanted, timeout


async def cancel_order(request: web.Request) -> web.Response:
    """Ask for cancellation: 202, or 409 once shipped (or rejected)."""
    principal = _authorize(request, "orders:write")
    order_id = checked(request.match_info["order_id"], _ORDER_ID, ("path", "order_id"), "order id")
    order = _visible(await _find(_orders(request), order_id), principal, order_id)
    if refusal := cancel_refusal(order):
        raise Conflict(
            f"order {order_id} is {order.status} and can no longer be cancelled ({refusal})"
        )
    if order.status != OrderStatus.CANCELLED:
        command = CancelOrder(
            event_id=f"{order_id}:cancel",
            order_id=order_id,
            at=dt.datetime.now(dt.UTC),
            correlation_id=request[CORRELATION_ID],
        )
        await request.app[COMMANDS].send(Topics.ORDER_INBOX, order_id, command)
    return json_response(order.view(), ENCODER, status=202)


def _authorize(request: web.Request, scope: str) -> Principal:
    return request.app[TOKENS].authorize(request.headers.get("Authorization"), scope)


def _orders(request: web.Request) -> OrderReader:
    orders = request.app[ORDERS]
    if not orders.ready:
        raise NotReady("orders are still being restored on this worker; retry shortly")
    return orders


async def _find(orders: OrderReader, order_id: str) -> Order | None:
    """The order, reading everything written before this request if it is not here yet."""
    found = orders.get(order_id.encode())
    if found is None and await _synced(orders):
        found = orders.get(order_id.encode())
    return None if found is None else found[0]


async def _synced(orders: OrderReader) -> bool:
    """The read-your-writes barrier; 503 when Kafka cannot be asked, never a wrong 404."""
    try:
        return await orders.sync(SYNC_WAIT)
    except (KafkaError, TimeoutError) as exc:
        raise BrokerUnavailable(
            f"this worker cannot reach Kafka to read the latest orders ({exc!r}); retry shortly"
        ) from exc


def _visible(order: Order | None, principal: Principal, order_id: str) -> Order:
    """The order if this caller may see it; otherwise the same 404 as a missing one."""
    if order is None or principal.customer_id not in (None, order.customer_id):
        raise NotFound(f"no order {order_id}")
    return order


def add_routes(app: web.Application) -> None:
    """Mount the order endpoints."""
    app.router.add_post("/v1/orders", submit_order)
    app.router.add_get("/v1/orders/{order_id}", get_order)
    app.router.add_post("/v1/orders/{order_id}/cancel", cancel_order)

"""Orders from CRM and web shops: submit, read (with long-poll), cancel (CONTRACT 2.2)."""

import datetime as dt
import hashlib
import re

import msgspec
from aiohttp import web
from aiokafka.errors import KafkaError

from app.api.auth import Principal
from app.api.bodies import checked, json_response, read_json
from app.api.gates import Gate
from app.api.keys import COMMANDS, LIMITS, ORDERS, TOKENS
from app.api.middlewares import CORRELATION_ID
from app.api.order_ids import keyed_order_id, stored_ids
from app.api.order_view import order_view
from app.api.readers import OrderReader
from app.api.tracing import FLOW
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
    validate_order,
)
from protocols.ids import ENTITY_ID_PATTERN
from protocols.order_commands import CancelOrder, SubmitOrder
from protocols.orders import OrderStatus
from tables.order.batch import stored_status
from tables.order.value import Order, cancel_refusal, status_reached

_ORDER_ID = re.compile(ENTITY_ID_PATTERN)
MAX_WAIT = 30.0
ACCEPT_WAIT = 10.0  # how long a POST waits for the order to show up before answering anyway
SYNC_WAIT = 5.0
READ_WAIT = 5.0  # to read an order that left the mirror's memory back from Kafka


async def submit_order(request: web.Request) -> web.Response:
    """Accept an order once the command is durable in Kafka; retries get the same answer."""
    principal = _authorize(request, "orders:write")
    body = await read_json(request, SUBMIT_ORDER_DECODER)
    if errors := validate_order(body):
        raise Unprocessable("the order breaks the contract", errors)
    if principal.customer_id not in (None, body.customer_id):
        raise Forbidden(f"this token places orders for customer {principal.customer_id} only")
    if body.order_id is None:
        key = request.headers.get("Idempotency-Key")
        ids: tuple[str, ...] = (keyed_order_id(body.customer_id, key),)
    else:
        ids = stored_ids(principal, body.order_id)
    digest = hashlib.blake2b(msgspec.json.encode(body), digest_size=16).hexdigest()
    orders = _orders(request)
    order_id, existing = await _locate(orders, ids, principal, request.app[LIMITS].syncs)
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
        await request.app[COMMANDS].send(order_id, command, request[FLOW].headers)
        existing = await orders.wait_until(order_id.encode(), _exists, ACCEPT_WAIT)
    named = body.order_id or order_id
    if existing is not None and existing.digest != digest:
        raise Unprocessable(
            f"order {named} was already submitted with a different body",
            [FieldError(loc=("body",), msg="differs from the first submission of this order")],
        )
    correlation_id = existing.correlation_id if existing else request[CORRELATION_ID]
    answer = OrderAccepted(named, OrderStatus.SUBMITTED, correlation_id)
    response = json_response(answer, ENCODER, status=202)
    response.headers["Location"] = f"/v1/orders/{named}"
    return response


def _exists(order: Order | None) -> bool:
    return order is not None


async def get_order(request: web.Request) -> web.Response:
    """The order's current state; with `wait_for`, held until that status or `timeout`."""
    principal = _authorize(request, "orders:read")
    order_id = checked(request.match_info["order_id"], _ORDER_ID, ("path", "order_id"), "order id")
    wanted, timeout = _wait_params(request)
    orders = _orders(request)
    limits = request.app[LIMITS]
    stored_id, order = await _owned_order(orders, principal, order_id, limits.syncs)
    if wanted is not None and not status_reached(order.status, wanted):
        with limits.long_polls.enter():
            waited = await orders.wait_until(
                stored_id.encode(),
                lambda o: o is not None and status_reached(o.status, wanted),
                timeout,
                pending=lambda raw: _before(stored_status(raw), wanted),
            )
        order = waited or order
    return json_response(order_view(order, order_id), ENCODER)


def _before(status: OrderStatus | None, wanted: OrderStatus) -> bool:
    """Whether a stored order's status is known to be short of `wanted` (not decoded then)."""
    return status is not None and not status_reached(status, wanted)


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
    """Ask for cancellation: 202 (after a partial shipment, of the unshipped remainder), or 409
    when nothing is left to cancel (shipped, invoiced) or the order was rejected."""
    principal = _authorize(request, "orders:write")
    order_id = checked(request.match_info["order_id"], _ORDER_ID, ("path", "order_id"), "order id")
    syncs = request.app[LIMITS].syncs
    stored_id, order = await _owned_order(_orders(request), principal, order_id, syncs)
    if refusal := cancel_refusal(order):
        raise Conflict(
            f"order {order_id} is {order.status} and can no longer be cancelled ({refusal})"
        )
    if order.status != OrderStatus.CANCELLED:
        command = CancelOrder(
            event_id=f"{stored_id}:cancel",
            order_id=stored_id,
            at=dt.datetime.now(dt.UTC),
            correlation_id=request[CORRELATION_ID],
        )
        await request.app[COMMANDS].send(stored_id, command, request[FLOW].headers)
    return json_response(order_view(order, order_id), ENCODER, status=202)


def _authorize(request: web.Request, scope: str) -> Principal:
    return request.app[TOKENS].authorize(request.headers.get("Authorization"), scope)


def _orders(request: web.Request) -> OrderReader:
    orders = request.app[ORDERS]
    if not orders.ready:
        raise NotReady("orders are still being restored on this worker; retry shortly")
    return orders


async def _locate(
    orders: OrderReader, ids: tuple[str, ...], principal: Principal, syncs: Gate
) -> tuple[str, Order | None]:
    """The first of `ids` holding an order this caller may see, else the first id and None.

    Another customer's order is skipped as if absent, after the same one barrier, so
    neither the answer nor its timing says it exists.
    """
    found = await _first_visible(orders, ids, principal)
    if found is None and await _synced(orders, syncs):
        found = await _first_visible(orders, ids, principal)
    return found or (ids[0], None)


async def _first_visible(
    orders: OrderReader, ids: tuple[str, ...], principal: Principal
) -> tuple[str, Order] | None:
    for stored_id in ids:
        found = await _read(orders, stored_id)
        if found is not None and principal.customer_id in (None, found.customer_id):
            return stored_id, found
    return None


async def _read(orders: OrderReader, stored_id: str) -> Order | None:
    """One order from the mirror, or from Kafka once it left memory; 503 when Kafka cannot say."""
    try:
        return await orders.read(stored_id.encode(), READ_WAIT)
    except (KafkaError, TimeoutError) as exc:
        raise BrokerUnavailable(
            f"this worker cannot read order {stored_id} back from Kafka ({exc!r}); retry shortly"
        ) from exc


async def _synced(orders: OrderReader, syncs: Gate) -> bool:
    """The read-your-writes barrier; 503 when Kafka cannot be asked, never a wrong 404."""
    try:
        with syncs.enter():
            return await orders.sync(SYNC_WAIT)
    except (KafkaError, TimeoutError) as exc:
        raise BrokerUnavailable(
            f"this worker cannot reach Kafka to read the latest orders ({exc!r}); retry shortly"
        ) from exc


async def _owned_order(
    orders: OrderReader, principal: Principal, order_id: str, syncs: Gate
) -> tuple[str, Order]:
    """The stored id and order `order_id` names for this caller; 404 as for a missing one."""
    stored_id, order = await _locate(orders, stored_ids(principal, order_id), principal, syncs)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return stored_id, order


def add_routes(app: web.Application) -> None:
    """Mount the order endpoints."""
    app.router.add_post("/v1/orders", submit_order)
    app.router.add_get("/v1/orders/{order_id}", get_order)
    app.router.add_post("/v1/orders/{order_id}/cancel", cancel_order)

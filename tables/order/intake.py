"""An order coming in: submission, and the stock side's answer for each of its lines.

A rule takes the Change so far and the message; it returns the Change, None when the
message changes nothing (a duplicate in effect), or raises InvalidOrderTransition.
"""

import datetime as dt

from msgspec.structs import replace

from protocols.order_commands import SubmitOrder
from protocols.orders import (
    BackorderPolicy,
    LineStatus,
    OrderBackordered,
    OrderCreditHold,
    OrderReserved,
    OrderStatus,
    OrderSubmitted,
)
from protocols.reservations import (
    LineReserved,
    LineUnreservable,
    ReleaseReservation,
    ReserveLine,
)
from tables.order.change import Change, emit, to_stock, with_lines
from tables.order.close import reject
from tables.order.value import (
    Fill,
    InvalidOrderTransition,
    Order,
    OrderLine,
    line_where,
    not_allowed,
)
from tables.order.warehouse import confirm

Answer = LineReserved | LineUnreservable

S = OrderStatus
_CLOSED = (S.CANCELLED, S.REJECTED)


def open_order(message: SubmitOrder, now: dt.datetime, auto_confirm: bool) -> Change:
    """A new order, SUBMITTED, with one ReserveLine per line."""
    numbers = [line.line_no for line in message.lines]
    if not numbers:
        raise InvalidOrderTransition("no_lines", f"order {message.order_id} has no line")
    if len(set(numbers)) != len(numbers):
        raise InvalidOrderTransition("duplicate_line_no", f"order {message.order_id}: {numbers}")
    order = Order(
        order_id=message.order_id,
        customer_id=message.customer_id,
        channel=message.channel,
        backorder=message.backorder,
        status=S.SUBMITTED,
        lines=tuple(
            OrderLine(line_no=line.line_no, sku=line.sku, qty=line.qty, warehouse=line.warehouse)
            for line in message.lines
        ),
        correlation_id=message.correlation_id,
        digest=message.digest,
    )
    change = Change(order=order, causation_id=message.event_id, now=now, auto_confirm=auto_confirm)
    change = emit(change, OrderSubmitted, channel=order.channel, backorder=order.backorder)
    partial = order.backorder == "allow"
    for line in order.lines:
        change = to_stock(
            change, ReserveLine, line, "reserve", qty=line.qty, warehouse=line.warehouse,
            partial=partial, submitted_at=change.order.submitted_at,
        )  # fmt: skip
    return change


def resubmit(order: Order, message: SubmitOrder) -> None:
    """The same request again changes nothing; another one under the same id is refused."""
    if message.digest != order.digest:
        raise InvalidOrderTransition(
            "order_id_conflict", f"order {order.order_id} was submitted with another body"
        )


def answer(change: Change, message: Answer) -> Change | None:
    """Record where a line was reserved (or that it was not); decide once every line is known."""
    order = change.order
    line = _answered_line(order, message)
    if line.resolved:
        return None  # the line's answer is known: a re-send the dedupe window forgot
    if order.status in _CLOSED:
        return _compensate(change, line, message)
    if order.status is not S.SUBMITTED:
        raise not_allowed(order, message.event_id)
    change = with_lines(change, [_sourced(line, message, order.backorder)])
    if all(line.resolved for line in change.order.lines):
        return _resolve(change)
    return change


def _answered_line(order: Order, message: Answer) -> OrderLine:
    """The line an answer is about; it must be the one that was asked for."""
    line = order.line(message.line_no)
    where = line_where(order, message.line_no)
    if line is None:
        raise InvalidOrderTransition("unknown_line", f"{where} does not exist")
    if (line.sku, line.qty) != (message.sku, message.qty):
        raise InvalidOrderTransition(
            "line_mismatch", f"{where} is {line.qty} {line.sku}, not {message.qty} {message.sku}"
        )
    if isinstance(message, LineReserved) and sum(f.qty for f in message.filled()) > line.qty:
        raise InvalidOrderTransition("line_mismatch", f"{where}: filled beyond {line.qty}")
    return line


def _sourced(line: OrderLine, message: Answer, backorder: BackorderPolicy) -> OrderLine:
    """The line as the stock side answered: reserved somewhere, backordered, or still pending."""
    if isinstance(message, LineReserved):
        fills = tuple(Fill(warehouse=f.warehouse, reserved=f.qty) for f in message.filled())
        short = line.qty - sum(fill.reserved for fill in fills)
        return replace(
            line,
            fills=fills,
            backordered=short if backorder == "allow" else 0,
            status=LineStatus.RESERVED,
            resolved=True,
        )
    if backorder == "allow":
        return replace(line, backordered=line.qty, status=LineStatus.BACKORDERED, resolved=True)
    return replace(line, resolved=True)  # the order's fate decides the line's


def _compensate(change: Change, line: OrderLine, message: Answer) -> Change:
    """A reservation that came after the order closed is given straight back.

    A line that allowed backorders may wait in the SKU's queue: the release takes it out.
    """
    if isinstance(message, LineUnreservable) and change.order.backorder == "reject":
        return with_lines(change, [replace(line, resolved=True)])
    answered = replace(line, resolved=True)
    return to_stock(with_lines(change, [answered]), ReleaseReservation, answered, "release")


def _resolve(change: Change) -> Change:
    """Every line answered: reject all-or-nothing, or RESERVED/BACKORDERED and what ERP said."""
    lines = change.order.lines
    if change.order.backorder == "reject" and any(line.reserved < line.qty for line in lines):
        return reject(change, "insufficient_stock")
    any_reserved = any(line.reserved for line in lines)
    return _follow_up(emit(change, OrderReserved if any_reserved else OrderBackordered))


def _follow_up(change: Change) -> Change:
    """After reservation: the parked ERP decision, else `auto` confirmation, else wait for ERP."""
    pending = change.order.pending_decision
    change = replace(change, order=replace(change.order, pending_decision=None))
    if pending is None:
        return confirm(change) if change.auto_confirm else change
    decided = replace(change, causation_id=pending.event_id)
    if pending.kind == "credit_hold":
        return emit(decided, OrderCreditHold, reason=pending.reason)
    return confirm(decided)

"""ERP's decisions on an order: confirm, credit hold and release, rejection, invoice."""

from msgspec.structs import replace

from protocols.erp import (
    ErpOrderConfirmed,
    ErpOrderCreditHold,
    ErpOrderCreditReleased,
    ErpOrderInvoiced,
    ErpOrderRejected,
)
from protocols.orders import OrderCreditHold, OrderStatus
from tables.order import close
from tables.order.change import Change, emit
from tables.order.progress import FULFILLING, settle
from tables.order.value import InvalidOrderTransition, PendingDecision, not_allowed
from tables.order.warehouse import confirm

ErpDecision = ErpOrderConfirmed | ErpOrderCreditHold | ErpOrderCreditReleased

S = OrderStatus
_AWAITING_ERP = (S.RESERVED, S.BACKORDERED)
_REJECTABLE = (S.SUBMITTED, S.RESERVED, S.BACKORDERED, S.CREDIT_HOLD)


def decide(change: Change, message: ErpDecision) -> Change:
    """ERP's confirm, credit hold or credit release; parked while answers are still missing."""
    order = change.order
    if order.status is S.SUBMITTED:
        return _park(change, message)
    if isinstance(message, ErpOrderConfirmed) and order.status in _AWAITING_ERP:
        return confirm(change)
    if isinstance(message, ErpOrderCreditHold) and order.status in _AWAITING_ERP:
        return emit(change, OrderCreditHold, reason=message.reason)
    if isinstance(message, ErpOrderCreditReleased) and order.status is S.CREDIT_HOLD:
        return confirm(change)
    raise not_allowed(order, message.event_id)


def _park(change: Change, message: ErpDecision) -> Change:
    """Keep a decision for when every line is answered, as if it had come after them."""
    order, pending = change.order, change.order.pending_decision
    if isinstance(message, ErpOrderCreditReleased):
        if pending is None or pending.kind != "credit_hold":
            raise not_allowed(order, message.event_id)
        parked = PendingDecision("confirm", message.event_id)
    elif pending is not None:
        raise InvalidOrderTransition(
            "decision_pending",
            f"{message.event_id}: order {order.order_id} already awaits stock to {pending.kind}",
        )
    elif isinstance(message, ErpOrderConfirmed):
        parked = PendingDecision("confirm", message.event_id)
    else:
        parked = PendingDecision("credit_hold", message.event_id, message.reason)
    return replace(change, order=replace(order, pending_decision=parked))


def reject(change: Change, message: ErpOrderRejected) -> Change:
    """ERP refuses the order before it is confirmed, or once confirmed while it has backorders.

    A confirmed order waiting for backordered units may be refused what it still waits for:
    everything held is given back, and what already shipped stays shipped.
    """
    order = change.order
    backordered = order.status in FULFILLING and any(line.backordered for line in order.lines)
    if order.status not in _REJECTABLE and not backordered:
        raise not_allowed(order, message.event_id)
    return close.reject(change, message.reason or "rejected_by_erp")


def invoice(change: Change, message: ErpOrderInvoiced) -> Change:
    """ERP invoiced what shipped so far; INVOICED once that is everything and nothing is open."""
    order = change.order
    if order.status not in (S.PARTIALLY_SHIPPED, S.SHIPPED):
        raise not_allowed(order, message.event_id)
    shipped = sum(line.shipped for line in order.lines)
    invoiced = replace(order, invoiced=shipped, invoice_id=message.invoice_id)
    change = replace(change, order=invoiced)
    return settle(change, "", invoice_id=message.invoice_id)

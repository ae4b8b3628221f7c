"""Orders never wait for ERP forever: past the decision timeout they are cancelled.

The agents look for orders that still wait for ERP's decision (RESERVED, BACKORDERED,
or on CREDIT_HOLD) longer than the timeout after they were submitted, and send each a
DecisionOverdue on its inbox. Applied, it cancels the order (reason `decision_timeout`)
and gives its stock back, unless ERP decided meanwhile.
"""

import datetime as dt

import msgspec

from protocols.order_commands import DecisionOverdue
from protocols.orders import CancelReason, LineStatus, OrderCancelled, OrderStatus
from tables.order.change import Change, emit
from tables.order.close import because, give_back
from tables.order.value import Order, StatusEntry

AWAITING_DECISION = frozenset(
    {OrderStatus.RESERVED, OrderStatus.BACKORDERED, OrderStatus.CREDIT_HOLD}
)
REASON = CancelReason.DECISION_TIMEOUT.value


class DeadlineFields(msgspec.Struct, frozen=True):
    """What the timeout reads of a stored order (any release's); the rest is skipped.

    Decoding only these takes a tenth of decoding the whole order, which every tick does
    for thousands of them.
    """

    order_id: str
    status: OrderStatus
    correlation_id: str
    history: tuple[StatusEntry, ...] = ()


Timed = Order | DeadlineFields


def decision_overdue(order: Timed, now: dt.datetime, timeout: dt.timedelta) -> bool:
    """Whether the order still waits for ERP, longer than `timeout` after it was submitted."""
    if order.status not in AWAITING_DECISION or not order.history:
        return False
    return now - order.history[0].at >= timeout


def overdue_notice(order: Timed, now: dt.datetime) -> DecisionOverdue:
    """The command that times the order out; its id is the same however often it is sent."""
    return DecisionOverdue(
        event_id=f"{order.order_id}:{REASON}",
        order_id=order.order_id,
        at=now,
        correlation_id=order.correlation_id,
    )


def time_out(change: Change, message: DecisionOverdue) -> Change | None:
    """CANCELLED for want of a decision, its stock given back; nothing if ERP decided since."""
    if change.order.status not in AWAITING_DECISION:
        return None
    change = give_back(because(change, CancelReason.DECISION_TIMEOUT), LineStatus.CANCELLED)
    return emit(change, OrderCancelled, reason=REASON)

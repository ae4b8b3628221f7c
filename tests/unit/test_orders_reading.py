"""Reading an order: dedupe of redeliveries, `status_reached`, the HTTP view, the stored form."""

import pytest
from msgspec.structs import replace

from protocols.orders import OrderStatus
from tables.order_table import decode_order, encode_order
from tables.orders import DEDUPE_WINDOW, Order, apply, cancel_refusal, status_reached
from tests.unit.test_orders_support import (
    CORRELATION,
    CUSTOMER,
    EAST,
    NOW,
    ORDER,
    RESERVED,
    SHIPPED,
    confirmed,
    reserved,
    run,
    step,
    submit,
)

S = OrderStatus


# --- dedupe ------------------------------------------------------------------------------


def test_a_redelivered_offset_is_a_duplicate() -> None:
    order = run(submit())
    result = apply(order, reserved(1, "SKU-1", 2, EAST), order.last_offset, NOW, False)
    assert result.duplicate
    assert result.order is order


def test_a_resent_event_id_is_a_duplicate_until_it_leaves_the_window() -> None:
    # Given an order that applied an answer, then DEDUPE_WINDOW other messages
    order = run(submit(), reserved(1, "SKU-1", 2, EAST))
    answer_id = order.recent_event_ids[-1]
    # Then the answer re-sent at a new offset is a duplicate
    assert step(order, reserved(1, "SKU-1", 2, EAST)).duplicate
    for n in range(DEDUPE_WINDOW):
        order = replace(
            order, recent_event_ids=(*order.recent_event_ids, f"x-{n}")[-DEDUPE_WINDOW:]
        )
    assert answer_id not in order.recent_event_ids
    # And once forgotten, the answered line still ignores it
    result = step(order, reserved(1, "SKU-1", 2, EAST))
    assert result.duplicate


def test_a_replay_without_offset_dedupes_by_event_id_only() -> None:
    order = run(submit())
    assert apply(order, submit(), None, NOW, False).duplicate
    result = apply(order, reserved(1, "SKU-1", 2, EAST), None, NOW, False)
    assert not result.duplicate
    assert result.order.last_offset == order.last_offset


# --- decisions for readers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "wanted", "reached"),
    [
        (S.SUBMITTED, S.SUBMITTED, True),
        (S.SUBMITTED, S.RESERVED, False),
        (S.RESERVED, S.BACKORDERED, True),
        (S.BACKORDERED, S.RESERVED, True),
        (S.RESERVED, S.CONFIRMED, False),
        (S.RELEASED, S.CONFIRMED, True),
        (S.CONFIRMED, S.CREDIT_HOLD, True),
        (S.PICKED, S.SHIPPED, False),
        (S.SHIPPED, S.SUBMITTED, True),
        (S.INVOICED, S.SHIPPED, True),
        (S.REJECTED, S.SHIPPED, True),
        (S.CANCELLED, S.INVOICED, True),
        (S.INVOICED, S.CANCELLED, True),
        (S.RELEASED, S.CANCELLED, False),
        (S.SUBMITTED, S.REJECTED, False),
    ],
)
def test_status_reached_follows_the_lifecycle(
    current: OrderStatus, wanted: OrderStatus, reached: bool
) -> None:
    assert status_reached(current, wanted) is reached


def test_cancel_refusal_names_what_the_aggregate_would_refuse() -> None:
    assert cancel_refusal(run(*RESERVED)) is None
    assert cancel_refusal(run(*SHIPPED)) == "already_shipped"


def test_the_view_is_the_http_body() -> None:
    order = run(*RESERVED)
    view = order.view()
    assert (view.order_id, view.customer_id, view.channel, view.status, view.version) == (
        ORDER,
        CUSTOMER,
        "web",
        S.RESERVED,
        2,
    )
    assert view.lines == order.line_states()
    assert view.history == order.history
    assert view.correlation_id == CORRELATION


def test_the_stored_form_reads_back_equal() -> None:
    order: Order = run(submit(), confirmed(), reserved(1, "SKU-1", 2, EAST))
    assert order.pending_decision is not None
    assert decode_order(encode_order(order)) == order
    shipped = run(*SHIPPED)
    assert decode_order(encode_order(shipped)) == shipped

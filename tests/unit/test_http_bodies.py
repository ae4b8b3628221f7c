"""HTTP bodies: what must answer 422, the duplicate-line rule, and field locations for errors."""

from typing import Any

import msgspec
import pytest

from protocols.http import (
    ATP_CHECK_DECODER,
    ENCODER,
    SUBMIT_ORDER_DECODER,
    AtpCheckLine,
    AtpCheckRequest,
    FieldError,
    OrderLineRequest,
    Problem,
    SubmitOrderRequest,
    field_error,
    validate_order,
)


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": "C-42",
        "channel": "web",
        "lines": [{"line_no": 1, "sku": "SKU-1", "qty": 2}],
    }
    return body | overrides


def line(**overrides: Any) -> dict[str, Any]:
    return {"line_no": 1, "sku": "SKU-1", "qty": 2} | overrides


def submit(body: dict[str, Any]) -> SubmitOrderRequest:
    return SUBMIT_ORDER_DECODER.decode(msgspec.json.encode(body))


def test_a_minimal_order_gets_the_defaults() -> None:
    # Given an order with only the required fields
    # When it is decoded
    request = submit(order_body())
    # Then the gateway assigns the id and backorders are rejected
    assert request == SubmitOrderRequest(
        customer_id="C-42",
        channel="web",
        lines=(OrderLineRequest(line_no=1, sku="SKU-1", qty=2),),
    )
    assert request.order_id is None
    assert request.backorder == "reject"


UNPROCESSABLE = [
    pytest.param(order_body(price=10), ("body", "price"), id="unknown field"),
    pytest.param(order_body(status="SHIPPED"), ("body", "status"), id="status given"),
    pytest.param(order_body(lines=[line(qty=0)]), ("body", "lines", 0, "qty"), id="qty 0"),
    pytest.param(
        order_body(lines=[line(qty=1_000_001)]), ("body", "lines", 0, "qty"), id="qty 1,000,001"
    ),
    pytest.param(order_body(lines=[line(qty="2")]), ("body", "lines", 0, "qty"), id="qty text"),
    pytest.param(order_body(lines=[line(qty=1.5)]), ("body", "lines", 0, "qty"), id="qty float"),
    pytest.param(order_body(lines=[line(sku="SKU 1")]), ("body", "lines", 0, "sku"), id="bad sku"),
    pytest.param(
        order_body(lines=[line(sku="SKU-1\n")]), ("body", "lines", 0, "sku"), id="sku + newline"
    ),
    pytest.param(
        order_body(lines=[line(warehouse="dc-east")]),
        ("body", "lines", 0, "warehouse"),
        id="bad warehouse",
    ),
    pytest.param(
        order_body(lines=[line(), line(line_no=2, colour="red")]),
        ("body", "lines", 1, "colour"),
        id="unknown line field",
    ),
    pytest.param(order_body(lines=[line(line_no=0)]), ("body", "lines", 0, "line_no"), id="no 0"),
    pytest.param(order_body(lines=[]), ("body", "lines"), id="no lines"),
    pytest.param(
        order_body(lines=[line(line_no=n) for n in range(1, 502)]),
        ("body", "lines"),
        id="501 lines",
    ),
    pytest.param(order_body(customer_id=""), ("body", "customer_id"), id="empty customer"),
    pytest.param(order_body(channel="web shop"), ("body", "channel"), id="bad channel"),
    pytest.param(order_body(backorder="maybe"), ("body", "backorder"), id="bad backorder"),
    pytest.param(
        {"channel": "web", "lines": [line()]}, ("body", "customer_id"), id="missing customer"
    ),
    pytest.param(
        order_body(lines=[{"line_no": 1, "qty": 1}]), ("body", "lines", 0, "sku"), id="no sku"
    ),
]


@pytest.mark.parametrize(("body", "loc"), UNPROCESSABLE)
def test_a_422_worthy_order_is_refused_at_its_field(
    body: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    # Given an order body that breaks the contract
    # When it is decoded
    with pytest.raises(msgspec.ValidationError) as refused:
        submit(body)
    # Then the error points at the offending field
    assert field_error(refused.value).loc == loc


def test_500_lines_are_accepted() -> None:
    # Given an order of exactly 500 lines
    body = order_body(lines=[line(line_no=n) for n in range(1, 501)])
    # When it is decoded
    # Then all lines are there
    assert len(submit(body).lines) == 500


def test_an_atp_check_refuses_what_an_order_refuses() -> None:
    # Given checks with an unknown field, a zero qty and too many lines
    bodies = [
        {"lines": [{"sku": "SKU-1", "qty": 1, "price": 3}]},
        {"lines": [{"sku": "SKU-1", "qty": 0}]},
        {"lines": [{"sku": "SKU-1", "qty": 1}] * 501},
    ]
    for body in bodies:
        # When each is decoded
        # Then it is refused
        with pytest.raises(msgspec.ValidationError):
            ATP_CHECK_DECODER.decode(msgspec.json.encode(body))
    good = {"lines": [{"sku": "SKU-1", "qty": 1, "warehouse": "DC-EAST"}]}
    assert ATP_CHECK_DECODER.decode(msgspec.json.encode(good)) == AtpCheckRequest(
        lines=(AtpCheckLine(sku="SKU-1", qty=1, warehouse="DC-EAST"),)
    )


def test_a_duplicate_line_no_is_detected() -> None:
    # Given an order that numbers two lines 1
    request = submit(order_body(lines=[line(), line(line_no=2), line(sku="SKU-2")]))
    # When the cross-field rules are checked
    errors = validate_order(request)
    # Then the repeated line is named, with the one it repeats
    assert errors == [
        FieldError(loc=("body", "lines", 2, "line_no"), msg="line_no 1 already used by lines[0]")
    ]


def test_distinct_line_numbers_pass() -> None:
    # Given an order numbered 10, 20, 30 as an ERP would
    request = submit(order_body(lines=[line(line_no=n) for n in (10, 20, 30)]))
    # When the cross-field rules are checked
    # Then nothing is wrong
    assert validate_order(request) == []


MESSAGES = [
    ("Expected `int`, got `str` - at `$.lines[0].qty`", ("body", "lines", 0, "qty")),
    ("Object contains unknown field `price`", ("body", "price")),
    ("Object contains unknown field `colour` - at `$.lines[12]`", ("body", "lines", 12, "colour")),
    ("Object missing required field `sku` - at `$.lines[3]`", ("body", "lines", 3, "sku")),
    ("Expected `array` of length <= 500 - at `$.lines`", ("body", "lines")),
    ("Expected `object`, got `array`", ("body",)),
    ("Expected `int`, got `str` - at `$.totals[...]`", ("body", "totals")),
    ("Expected `int`, got `str` - at `key` in `$.totals`", ("body", "totals")),
]


@pytest.mark.parametrize(("message", "loc"), MESSAGES)
def test_msgspec_messages_become_locations(message: str, loc: tuple[str | int, ...]) -> None:
    # Given a message in msgspec's format
    # When it becomes a field error
    error = field_error(msgspec.ValidationError(message))
    # Then loc is the path from the body, and msg is the message without the path
    assert error.loc == loc
    assert error.msg == message.partition(" - at ")[0]


def test_a_real_msgspec_error_keeps_its_message() -> None:
    # Given a qty that is text
    with pytest.raises(msgspec.ValidationError) as refused:
        submit(order_body(lines=[line(qty="abc")]))
    # When it becomes a field error
    error = field_error(refused.value)
    # Then it reads well in a problem+json body
    assert msgspec.json.decode(ENCODER.encode(error)) == {
        "loc": ["body", "lines", 0, "qty"],
        "msg": "Expected `int`, got `str`",
    }


def test_a_problem_leaves_out_what_it_does_not_have() -> None:
    # Given a 404 problem and a 422 problem
    not_found = Problem(type="about:blank", title="Not Found", status=404, detail="no such order")
    invalid = Problem(
        type="about:blank",
        title="Unprocessable Content",
        status=422,
        detail="the body breaks the contract",
        errors=(FieldError(loc=("body", "lines", 0, "qty"), msg="Expected `int` >= 1"),),
    )
    # When they are encoded
    # Then the 404 has no errors member and the 422 lists its field errors
    assert msgspec.json.decode(ENCODER.encode(not_found)) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no such order",
    }
    assert msgspec.json.decode(ENCODER.encode(invalid))["errors"] == [
        {"loc": ["body", "lines", 0, "qty"], "msg": "Expected `int` >= 1"}
    ]

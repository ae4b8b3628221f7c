"""ERP's free strings are bounded: an oversized one fails to decode, so it is dead-lettered."""

import msgspec
import pytest

from protocols.erp import MAX_INVOICE_ID_CHARS, MAX_REASON_CHARS, OrderDecision

decisions = msgspec.json.Decoder(OrderDecision)


def decision(kind: str, **fields: str) -> bytes:
    return msgspec.json.encode({"type": kind, "event_id": "e-1", "order_id": "SO-1", **fields})


def test_reasons_and_invoice_ids_within_the_bounds_decode() -> None:
    rejected = decisions.decode(decision("OrderRejected", reason="r" * MAX_REASON_CHARS))
    invoiced = decisions.decode(decision("OrderInvoiced", invoice_id="I" * MAX_INVOICE_ID_CHARS))
    assert (len(rejected.reason), len(invoiced.invoice_id)) == (  # type: ignore[union-attr]
        MAX_REASON_CHARS,
        MAX_INVOICE_ID_CHARS,
    )


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("OrderRejected", "reason", "r" * (MAX_REASON_CHARS + 1)),
        ("OrderCreditHold", "reason", "r" * 1_000_000),
        ("OrderInvoiced", "invoice_id", "I" * (MAX_INVOICE_ID_CHARS + 1)),
        ("OrderInvoiced", "invoice_id", ""),
    ],
)
def test_an_oversized_or_empty_string_is_refused_naming_its_field(
    kind: str, field: str, value: str
) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"\$\.{field}"):
        decisions.decode(decision(kind, **{field: value}))

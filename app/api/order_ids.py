"""Which stored order an order id names for a caller: a customer-bound token's ids are its own.

Two customers may both call an order "PO-1001". For a customer-bound token, the id it
gives names an order within its customer: stored as `o-<digest of customer and id>`, so
another customer's "PO-1001" is another order, whose existence the token cannot learn
and whose id it cannot take. Shop-wide tokens (bound to no customer) name orders by the
stored id itself, as they always did.
"""

import hashlib
import re
import uuid

from app.api.auth import Principal
from app.errors import Unprocessable
from protocols.http import FieldError

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def stored_ids(principal: Principal, order_id: str) -> tuple[str, ...]:
    """The stored ids `order_id` may name for this caller, preferred first (the first is new)."""
    if principal.customer_id is None:
        return (order_id,)
    # Then the id itself: an order the shop placed for this customer under it, or one placed
    # before ids were scoped. Whose it is, is checked where it is read.
    seed = f"{principal.customer_id}\0order_id\0{order_id}".encode()
    return (f"o-{hashlib.blake2b(seed, digest_size=12).hexdigest()}", order_id)


def keyed_order_id(customer_id: str, idempotency_key: str | None) -> str:
    """The id an Idempotency-Key names (per customer); without a key, a fresh id."""
    if idempotency_key is None:
        return f"o-{uuid.uuid4().hex[:24]}"
    if not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise Unprocessable(
            "invalid Idempotency-Key",
            [FieldError(loc=("header", "Idempotency-Key"), msg="1-200 printable characters")],
        )
    seed = f"{customer_id}\0{idempotency_key}".encode()
    return f"o-{hashlib.blake2b(seed, digest_size=12).hexdigest()}"

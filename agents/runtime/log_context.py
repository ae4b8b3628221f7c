"""What a log line is about, carried by the task that writes it (the request or record handled)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="")
"""The correlation id of the request or message being handled ("" outside one)."""


class Subject(NamedTuple):
    """A record being handled: its flow, and the order, SKU and warehouse it names, if known.

    A tuple: built once per WMS delivery, on the bridge's hot path.
    """

    correlation_id: str
    order_id: str | None = None
    sku: str | None = None
    warehouse: str | None = None

    def names(self) -> dict[str, str]:
        """The order, SKU and warehouse a log line carries: only those known."""
        named = {"order_id": self.order_id, "sku": self.sku, "warehouse": self.warehouse}
        return {key: value for key, value in named.items() if value}


subject: ContextVar[Subject | None] = ContextVar("subject", default=None)
"""The record a relay, the WMS bridge or the command publisher is handling (None outside one)."""


@contextmanager
def about(handled: Subject) -> Iterator[None]:
    """Log lines written inside carry `handled`'s correlation id, order, SKU and warehouse."""
    flow, named = correlation_id.set(handled.correlation_id), subject.set(handled)
    try:
        yield
    finally:
        subject.reset(named)
        correlation_id.reset(flow)

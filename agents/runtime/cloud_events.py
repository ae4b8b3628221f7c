"""CloudEvents binary-mode headers for the events the agents publish, built once per record."""

import datetime as dt

from agents.runtime.correlated import Correlated
from protocols.inventory import StockChanged
from protocols.orders import OrderEventFields, OrderStatusChanged
from protocols.trace_headers import (
    CE_ID,
    CE_SOURCE,
    CE_SPECVERSION,
    CE_TIME,
    CE_TYPE,
    SPECVERSION,
    Header,
    cloud_event_source,
)

PublishedEvent = OrderEventFields | OrderStatusChanged | StockChanged
"""What goes to the external topics: `orders.events`, `crm.order-status`, `inventory.events`."""


class CloudEvents:
    """Adds `ce_*` headers to a flow's headers for each event one part of a deployment sends."""

    def __init__(self, app_id: str, part: str) -> None:
        self.source = cloud_event_source(app_id, part)
        self._types: dict[type, Header] = {}
        # a batch's events share one `now`: its header is made once (isoformat is ~1 us)
        self._last_time: tuple[dt.datetime | None, Header] = (None, (CE_TIME, b""))

    def headers(self, flow: Correlated, event: PublishedEvent) -> list[Header]:
        """The flow's headers plus the event's `ce_type` (its type tag), id, source and time."""
        kind = type(event)
        ce_type = self._types.get(kind)
        if ce_type is None:
            tag = str(kind.__struct_config__.tag or kind.__name__)
            ce_type = self._types[kind] = (CE_TYPE, tag.encode())
        at = event.at if isinstance(event, OrderStatusChanged) else event.occurred_at
        last, ce_time = self._last_time
        if at is not last:
            ce_time = (CE_TIME, at.isoformat().encode())
            self._last_time = (at, ce_time)
        return [
            *flow.headers,
            (CE_SPECVERSION, SPECVERSION),
            ce_type,
            (CE_ID, event.event_id.encode()),
            (CE_SOURCE, self.source),
            ce_time,
        ]

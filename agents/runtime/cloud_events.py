"""CloudEvents binary-mode headers for the events the agents publish, built once per record."""

from agents.runtime.flows import Flow
from protocols.inventory import StockChanged
from protocols.orders import OrderEventBase, OrderStatusChanged
from protocols.trace_headers import Header, cloud_event_source

PublishedEvent = OrderEventBase | OrderStatusChanged | StockChanged
"""What goes to the external topics: `orders.events`, `crm.order-status`, `inventory.events`."""


class CloudEvents:
    """Adds `ce_*` headers to a flow's headers for each event one part of a deployment sends."""

    def __init__(self, app_id: str, part: str) -> None:
        self.source = cloud_event_source(app_id, part)
        self._types: dict[type, str] = {}

    def headers(self, flow: Flow, event: PublishedEvent) -> list[Header]:
        """The flow's headers plus the event's `ce_type` (its type tag), id, source and time."""
        kind = type(event)
        ce_type = self._types.get(kind)
        if ce_type is None:
            ce_type = self._types[kind] = str(kind.__struct_config__.tag or kind.__name__)
        at = event.at if isinstance(event, OrderStatusChanged) else event.occurred_at
        return flow.with_cloud_event(ce_type, event.event_id, self.source, at.isoformat())

"""The order actor: applies everything that changes an order, and sends what follows from it."""

import datetime as dt

import faust
import msgspec
from faust.types import EventT, TableT

from agents.actor import TableActor, write_again
from agents.deadletters import DeadLetters
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import Output, raw_topic
from protocols.topics import OrderInboxMessage, Topics
from tables.order_table import decode_order, encode_order
from tables.orders import InvalidOrderTransition, OrderApplied, apply

_inbox_decoder = msgspec.json.Decoder(OrderInboxMessage)
_encoder = msgspec.json.Encoder()


class OrderOutputs:
    """The topics an order change fans out to."""

    def __init__(self, app: faust.App) -> None:
        self.events = Output(app, Topics.ORDERS_EVENTS)
        self.crm = Output(app, Topics.CRM_ORDER_STATUS)
        self.stock = Output(app, Topics.STOCK_INBOX)
        self.wms = Output(app, Topics.WMS_COMMANDS)

    async def send(self, applied: OrderApplied) -> None:
        """Publish the canonical events, the CRM view, and the commands, in that order."""
        for event in applied.events:
            await self.events.send(key=event.order_id.encode(), value=_encoder.encode(event))
        for change in applied.status_changes:
            await self.crm.send(key=change.customer_id.encode(), value=_encoder.encode(change))
        for command in applied.stock_commands:
            await self.stock.send(key=command.sku.encode(), value=_encoder.encode(command))
        for wms in applied.wms_commands:
            await self.wms.send(key=wms.order_id.encode(), value=_encoder.encode(wms))


class OrderActor(TableActor):
    """Decode, apply, store the new order, publish what follows from the change."""

    table_name = "orders"

    def __init__(
        self,
        table: TableT[bytes, bytes],
        outputs: OrderOutputs,
        dead_letters: DeadLetters,
        metrics: AgentMetrics,
        auto_confirm: bool,
    ) -> None:
        super().__init__(dead_letters, metrics)
        self.table = table
        self.outputs = outputs
        self.auto_confirm = auto_confirm

    async def apply(self, event: EventT[bytes]) -> str:
        """Apply one inbox message to its order."""
        key = event.key
        message = _inbox_decoder.decode(event.value)
        if key != message.order_id.encode():
            raise InvalidOrderTransition("key_mismatch", f"key {key!r} != {message.order_id!r}")
        current = self.table.get(key)
        order = decode_order(current) if current is not None else None
        now = dt.datetime.now(dt.UTC)
        applied = apply(order, message, event.message.offset, now, self.auto_confirm)
        if applied.duplicate:
            write_again(self.table, key, current)
        else:
            self.table[key] = encode_order(applied.order)
        # A repeat re-sends what the first delivery sent: a crash may have lost those sends.
        await self.outputs.send(applied)
        return "duplicate" if applied.duplicate else "applied"


def register_order_agent(app: faust.App, actor: OrderActor) -> None:
    """Subscribe the actor to the order inbox, one event at a time per partition."""

    @app.agent(raw_topic(app, Topics.ORDER_INBOX), name="orders", concurrency=1)
    async def orders(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await actor.handle(event)

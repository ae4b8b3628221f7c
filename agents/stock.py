"""The stock actor: applies every stock message for a SKU to its table value, exactly once."""

import datetime as dt

import faust
import msgspec
from faust.types import EventT, TableT

from agents.actor import TableActor, write_again
from agents.deadletters import DeadLetters
from agents.runtime.metrics import AgentMetrics
from agents.runtime.output import Output, raw_topic
from protocols.topics import StockInboxMessage, Topics
from tables.errors import InvalidStockChange
from tables.stock import Applied, SkuStock, apply
from tables.stock_table import StockValues

_inbox_decoder = msgspec.json.Decoder(StockInboxMessage)
_encoder = msgspec.json.Encoder()


class StockOutputs:
    """The topics a stock change fans out to."""

    def __init__(self, app: faust.App) -> None:
        self.changes = Output(app, Topics.INVENTORY_EVENTS)
        self.answers = Output(app, Topics.ORDER_INBOX)

    async def send(self, key: bytes, applied: Applied) -> None:
        """StockChanged for ERP and CRM; reservation answers back to each order."""
        for change in applied.changes:
            await self.changes.send(key=key, value=_encoder.encode(change))
        for answer in applied.answers:
            await self.answers.send(key=answer.order_id.encode(), value=_encoder.encode(answer))


class StockActor(TableActor):
    """Decode, apply, store the new value, publish StockChanged."""

    table_name = "stock"

    def __init__(
        self,
        table: TableT[bytes, bytes],
        outputs: StockOutputs,
        dead_letters: DeadLetters,
        metrics: AgentMetrics,
    ) -> None:
        super().__init__(dead_letters, metrics)
        self.table = table
        self.outputs = outputs
        self.values = StockValues()

    async def apply(self, event: EventT[bytes]) -> str:
        """Apply one inbox message to its SKU's stock."""
        key = event.key
        message = _inbox_decoder.decode(event.value)
        if key != message.sku.encode():
            raise InvalidStockChange("key_mismatch", f"key {key!r} != sku {message.sku!r}")
        current = self.table.get(key)
        stock = SkuStock(sku=message.sku) if current is None else self.values.decode(key, current)
        applied = apply(stock, message, event.message.offset, dt.datetime.now(dt.UTC))
        if applied.duplicate:
            write_again(self.table, key, current)
            # A repeated ReserveLine carries its answer again: the first may have been lost
            # in the crash that caused the repeat. The order side ignores answers it has.
            await self.outputs.send(key, applied)
            return "duplicate"
        self.table[key] = self.values.encode(key, applied.stock)
        await self.outputs.send(key, applied)
        return "applied"


def register_stock_agent(app: faust.App, actor: StockActor) -> None:
    """Subscribe the actor to the stock inbox, one event at a time per partition."""
    inbox = raw_topic(app, Topics.STOCK_INBOX)

    @app.agent(inbox, name="stock", concurrency=1)
    async def stock(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await actor.handle(event)

"""The stock actor: applies every stock message for a SKU to its table value, exactly once."""

import datetime as dt
import logging

import faust
import msgspec
from faust.types import EventT, TableT

from agents.deadletters import DeadLetters
from app.faust_app import raw_topic
from app.metrics import Metrics
from protocols.topics import StockInboxMessage, Topics
from tables.errors import InvalidStockChange
from tables.stock import SkuStock, apply
from tables.stock_table import decode_stock, encode_stock

log = logging.getLogger(__name__)

_inbox_decoder = msgspec.json.Decoder(StockInboxMessage)
_encoder = msgspec.json.Encoder()


class StockActor:
    """Holds what the agent body needs; `handle` is the per-event step."""

    def __init__(
        self,
        table: TableT[bytes, bytes],
        changes: faust.TopicT,
        dead_letters: DeadLetters,
        metrics: Metrics,
    ) -> None:
        self.table = table
        self.changes = changes
        self.dead_letters = dead_letters
        self.applied = metrics.events_applied

    async def handle(self, event: EventT[bytes]) -> None:
        """Apply one event; whatever cannot be applied is dead-lettered, never dropped."""
        try:
            await self._apply(event)
        except (msgspec.DecodeError, InvalidStockChange) as exc:
            reason = exc.reason if isinstance(exc, InvalidStockChange) else "malformed"
            await self._dead_letter(event, reason, str(exc))
        except Exception as exc:
            # Faust acks an event whose handler raised: dead-letter it so it can be replayed.
            log.exception("unexpected error applying %s", event.message.tp)
            await self._dead_letter(event, "unexpected_error", repr(exc))

    async def _apply(self, event: EventT[bytes]) -> None:
        """Decode, apply, store the new value, publish StockChanged."""
        key, offset = event.key, event.message.offset
        message = _inbox_decoder.decode(event.value)
        if key != message.sku.encode():
            raise InvalidStockChange("key_mismatch", f"key {key!r} != sku {message.sku!r}")
        current = self.table.get(key)
        stock = decode_stock(current) if current is not None else SkuStock(sku=message.sku)
        applied = apply(stock, message, offset, dt.datetime.now(dt.UTC))
        if applied.duplicate:
            self.applied.labels("stock", "duplicate").inc()
            return
        self.table[key] = encode_stock(applied.stock)
        for change in applied.changes:
            await self.changes.send(key=key, value=_encoder.encode(change))
        self.applied.labels("stock", "applied").inc()

    async def _dead_letter(self, event: EventT[bytes], reason: str, error: str) -> None:
        await self.dead_letters.publish_event(event, reason, error)
        self.applied.labels("stock", "dead_letter").inc()


def register_stock_agent(app: faust.App, actor: StockActor) -> None:
    """Subscribe the actor to the stock inbox, one event at a time per partition."""
    inbox = raw_topic(app, Topics.STOCK_INBOX)

    @app.agent(inbox, name="stock", concurrency=1)
    async def stock(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await actor.handle(event)

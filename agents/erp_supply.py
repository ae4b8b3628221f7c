"""Relays ERP supply planning onto the stock inbox, re-keyed by SKU (whatever ERP partitions by)."""

import faust
import msgspec

from agents.deadletters import DeadLetters
from app.faust_app import raw_topic
from protocols.erp import SupplyMessage
from protocols.topics import Topics

_supply_decoder = msgspec.json.Decoder(SupplyMessage)


def register_erp_supply_relay(app: faust.App, dead_letters: DeadLetters) -> None:
    """Validate each ERP supply message and forward its original bytes keyed by its SKU."""
    source = raw_topic(app, Topics.ERP_SUPPLY)
    inbox = raw_topic(app, Topics.STOCK_INBOX)

    @app.agent(source, name="erp-supply-relay", concurrency=1)
    async def relay(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                message = _supply_decoder.decode(event.value)
            except msgspec.DecodeError as exc:
                await dead_letters.publish_event(event, "malformed", str(exc))
                continue
            headers = event.message.headers
            await inbox.send(key=message.sku.encode(), value=event.value, headers=headers)

"""WMS and ERP stock messages project into the stock table and out through the ATP API."""

import datetime as dt
from typing import Any

import aiohttp
import pytest

from app.settings import Settings
from protocols.deadletters import DeadLetter
from protocols.erp import ExpectedReceipt, SafetyStockSet
from protocols.inventory import StockAdjusted, StockCounted, StockHoldChanged, StockReceived
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, read_until, unique
from tests.support.polling import eventually

pytestmark = pytest.mark.brokers

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
ETA = dt.date(2099, 1, 15)


def received(sku: str, qty: int, warehouse: str = "DC-EAST", **extra: Any) -> StockReceived:
    return StockReceived(
        event_id=unique("rcv"), sku=sku, warehouse=warehouse, occurred_at=NOW, qty=qty, **extra
    )


async def atp(url: str, sku: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/v1/atp/{sku}") as response:
        return response.status, await response.json(content_type=None)


def position(answer: Any, warehouse: str) -> dict[str, Any]:
    return next(w for w in answer["warehouses"] if w["warehouse"] == warehouse)


async def test_every_kind_of_stock_message_reaches_atp(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker and a SKU nobody has seen
    worker = spawn_worker()
    await worker.wait_ready()
    sku = unique("SKU")
    assert (await atp(worker.url, sku))[0] == 404
    key = sku.encode()
    # When the WMS receives 50 (PO-1 partly), adjusts -3, holds 5, and ERP plans supply
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.erp_supply.name,
        [
            (
                key,
                ExpectedReceipt(
                    event_id=unique("e"),
                    po_id="PO-1",
                    sku=sku,
                    warehouse="DC-EAST",
                    qty=30,
                    eta=ETA,
                ),
            ),
            (key, SafetyStockSet(event_id=unique("e"), sku=sku, warehouse="DC-EAST", qty=2)),
        ],
    )
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.stock_inbox.name,
        [
            (key, received(sku, 50, po_id="PO-1")),
            (
                key,
                StockAdjusted(
                    event_id=unique("a"),
                    sku=sku,
                    warehouse="DC-EAST",
                    occurred_at=NOW,
                    delta=-3,
                    reason="DAMAGED",
                ),
            ),
            (
                key,
                StockHoldChanged(
                    event_id=unique("h"),
                    sku=sku,
                    warehouse="DC-EAST",
                    occurred_at=NOW,
                    delta=5,
                    reason="QC",
                ),
            ),
            (key, received(sku, 7, warehouse="DC-WEST")),
        ],
    )
    # Then ATP shows on_hand 47, blocked 5, safety 2 (atp 40) in the east and 7 in the west
    _, answer = await eventually(
        lambda: atp(worker.url, sku),
        lambda r: r[0] == 200 and len(r[1]["warehouses"]) == 2 and r[1]["atp"] == 47,
    )
    east = position(answer, "DC-EAST")
    assert (east["on_hand"], east["blocked"], east["safety_stock"], east["atp"]) == (47, 5, 2, 40)
    # And the receipt against PO-1 shrank the expected receipt, or removed it if it was first
    assert east["incoming"] in ([], [{"po_id": "PO-1", "qty": 30, "eta": "2099-01-15"}])
    # And a cycle count sets on_hand absolutely
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.stock_inbox.name,
        [
            (
                key,
                StockCounted(
                    event_id=unique("c"), sku=sku, warehouse="DC-WEST", occurred_at=NOW, on_hand=4
                ),
            )
        ],
    )
    await eventually(lambda: atp(worker.url, sku), lambda r: r[1]["atp"] == 44)
    # And ERP and CRM saw a StockChanged with the final figures of each position
    records = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.inventory_events.name,
        lambda rs: any(r.key == key and b'"on_hand":4' in r.value for r in rs),
    )
    assert all(b'"type":"StockChanged"' in r.value for r in records if r.key == key)


async def test_the_same_message_delivered_three_times_applies_once(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker
    worker = spawn_worker()
    await worker.wait_ready()
    sku = unique("SKU")
    receipt = received(sku, 10)
    marker = received(sku, 1)
    # When the same receipt arrives three times (new offsets, same event id), then a marker
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.stock_inbox.name,
        [(sku.encode(), receipt)] * 3 + [(sku.encode(), marker)],
    )
    # Then on_hand counts it once
    _, answer = await eventually(
        lambda: atp(worker.url, sku), lambda r: r[0] == 200 and r[1]["atp"] >= 11
    )
    assert answer["atp"] == 11


async def test_a_receipt_resent_after_1000_other_events_on_its_sku_applies_once(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker and a receipt of 7 applied to a SKU
    worker = spawn_worker()
    await worker.wait_ready()
    sku = unique("SKU")
    receipt = received(sku, 7)
    others = [(sku.encode(), received(sku, 1)) for _ in range(1000)]
    # When 1,000 other receipts of 1 follow, then the first receipt is sent again (a WMS
    # re-publishing it, or its dead letter replayed), and a marker of 1 after it
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.stock_inbox.name,
        [
            (sku.encode(), receipt),
            *others,
            (sku.encode(), receipt),
            (sku.encode(), received(sku, 1)),
        ],
    )
    # Then on_hand counts the receipt once: 7 + 1,000 + 1
    _, answer = await eventually(
        lambda: atp(worker.url, sku), lambda r: r[0] == 200 and r[1]["atp"] >= 1008
    )
    assert answer["atp"] == 1008


async def test_poison_is_dead_lettered_and_the_good_messages_around_it_apply(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker and a SKU with 5 on hand
    worker = spawn_worker()
    await worker.wait_ready()
    sku = unique("SKU")
    key = sku.encode()
    too_much_hold = StockHoldChanged(
        event_id=unique("h"), sku=sku, warehouse="DC-EAST", occurred_at=NOW, delta=9
    )
    # When garbage, a hold beyond on_hand and a message under the wrong key arrive among good ones
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.stock_inbox.name,
        [
            (key, received(sku, 5)),
            (key, b"<not json> " + key),
            (key, too_much_hold),
            (unique("OTHER").encode(), received(sku, 100)),
            (key, received(sku, 2)),
        ],
    )
    # Then the good ones apply
    await eventually(lambda: atp(worker.url, sku), lambda r: r[0] == 200 and r[1]["atp"] == 7)

    # And each bad one is on the dead-letter topic with its reason and original bytes
    def mine(records: list[Any]) -> list[DeadLetter]:
        letters = [DeadLetter.from_headers(r.headers, r.value, r.key) for r in records]
        return [d for d in letters if sku.encode() in d.payload]

    records = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.dead_letters.name,
        lambda rs: len(mine(rs)) >= 3,
    )
    reasons = {d.reason: d for d in mine(records)}
    assert set(reasons) == {"malformed", "hold_exceeds_on_hand", "key_mismatch"}
    assert reasons["malformed"].payload == b"<not json> " + key
    assert reasons["malformed"].key == key
    assert all(
        d.source == "kafka" and d.origin == deployment.topics.stock_inbox.name
        for d in reasons.values()
    )

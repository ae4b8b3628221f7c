"""ERP's topics through the relays: bytes that are not a message are dead-lettered, never lost."""

import datetime as dt
from typing import Any

import aiohttp
import pytest

from app.settings import Settings
from protocols.deadletters import DeadLetter
from protocols.erp import ExpectedReceipt
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, read_until, unique
from tests.support.polling import eventually

pytestmark = pytest.mark.brokers


async def atp(url: str, sku: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/v1/atp/{sku}") as response:
        return response.status, await response.json(content_type=None)


async def test_undecodable_erp_records_are_dead_lettered_and_the_next_ones_relayed(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker, a SKU and an order id nobody has seen
    worker = spawn_worker()
    await worker.wait_ready()
    sku, order_id = unique("SKU"), unique("O")
    bad_decision = (
        b'{"type":"OrderConfirmed","event_id":"e-\xff","order_id":"' + order_id.encode() + b'"}'
    )
    not_json = b"<not json> " + sku.encode()
    good_decision = f'{{"type":"OrderConfirmed","event_id":"e-1","order_id":"{order_id}"}}'
    plan = ExpectedReceipt(
        event_id=unique("e"), po_id="PO-9", sku=sku, warehouse="DC-EAST", qty=4,
        eta=dt.date(2099, 1, 15),
    )  # fmt: skip
    # When ERP sends a decision with invalid UTF-8 inside a JSON string, then a valid one,
    # and a supply record that is not JSON, then a valid supply plan, each pair under one key
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.erp_order_decisions.name,
        [(order_id.encode(), bad_decision), (order_id.encode(), good_decision.encode())],
    )
    await produce(
        deployment.kafka_bootstrap,
        deployment.topics.erp_supply.name,
        [(sku.encode(), not_json), (sku.encode(), plan)],
    )

    # Then both bad records are on the dead-letter topic as malformed, with their original bytes
    def mine(records: list[Any]) -> dict[bytes, DeadLetter]:
        letters = [DeadLetter.from_headers(r.headers, r.value, r.key) for r in records]
        return {d.payload: d for d in letters if d.payload in (bad_decision, not_json)}

    records = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.dead_letters.name,
        lambda rs: len(mine(rs)) == 2,
    )
    letters = mine(records)
    assert (letters[bad_decision].reason, letters[bad_decision].origin) == (
        "malformed",
        deployment.topics.erp_order_decisions.name,
    )
    assert (letters[not_json].reason, letters[not_json].origin) == (
        "malformed",
        deployment.topics.erp_supply.name,
    )
    assert letters[not_json].key == sku.encode()
    # And the valid supply plan after them applied: the SKU shows the expected receipt
    _, answer = await eventually(lambda: atp(worker.url, sku), lambda r: r[0] == 200)
    assert answer["warehouses"][0]["incoming"] == [{"po_id": "PO-9", "qty": 4, "eta": "2099-01-15"}]
    # And the valid decision after the bad one reached the order inbox, keyed by its order
    inbox = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.order_inbox.name,
        lambda rs: any(r.key == order_id.encode() for r in rs),
    )
    assert [r.value for r in inbox if r.key == order_id.encode()] == [good_decision.encode()]


async def test_a_new_deployment_reads_erp_decisions_from_its_start_and_supply_from_the_beginning(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given ERP's history on the shared topics: a decision about some other deployment's
    # order, and a supply plan
    sku, before, after = unique("SKU"), unique("O"), unique("O")
    decision = '{{"type":"OrderConfirmed","event_id":"{0}:c","order_id":"{0}"}}'
    topics = deployment.topics
    await produce(
        deployment.kafka_bootstrap,
        topics.erp_order_decisions.name,
        [(before.encode(), decision.format(before).encode())],
    )
    plan = ExpectedReceipt(
        event_id=unique("e"), po_id="PO-7", sku=sku, warehouse="DC-EAST", qty=3,
        eta=dt.date(2099, 2, 1),
    )  # fmt: skip
    await produce(deployment.kafka_bootstrap, topics.erp_supply.name, [(sku.encode(), plan)])
    # When a new deployment starts, and ERP then decides about another unknown order
    worker = spawn_worker()
    await worker.wait_ready()
    await produce(
        deployment.kafka_bootstrap,
        topics.erp_order_decisions.name,
        [(after.encode(), decision.format(after).encode())],
    )
    # Then the supply plan from before it applied
    _, answer = await eventually(lambda: atp(worker.url, sku), lambda r: r[0] == 200)
    assert answer["warehouses"][0]["incoming"] == [{"po_id": "PO-7", "qty": 3, "eta": "2099-02-01"}]
    # And only the decision sent since it exists reached its order inbox (the one before
    # was about an order it never had)
    inbox = await read_until(
        deployment.kafka_bootstrap,
        topics.order_inbox.name,
        lambda rs: any(r.key == after.encode() for r in rs),
    )
    assert [r.key for r in inbox if r.key in (before.encode(), after.encode())] == [after.encode()]

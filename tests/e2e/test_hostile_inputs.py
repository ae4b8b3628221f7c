"""Hostile input on every channel distgate reads: each message applied or dead-lettered, none lost.

The corpora (`tests/support/hostile.py`) go to a running worker interleaved with valid
messages carrying known ids: WMS XML into `wms.events`, and records into each ERP topic.
Every valid message must show its effect through the API, every hostile one must be on
the dead-letter topic (counted by source and case), and the worker must still serve.
"""

import asyncio
import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from app.dev.workers import WorkerProcess
from app.settings import Settings
from protocols.amqp import HEADER_MESSAGE_ID, HEADER_ROUTING_KEY
from protocols.deadletters import DeadLetter
from tests.conftest import SpawnWorker
from tests.support.hostile import Hostile, erp_corpus, hostile_row, wms_corpus
from tests.support.kafka import produce, read_until, unique
from tests.support.polling import eventually
from tests.support.shop import call, submit, wait_status
from tests.support.wms import positions, publish_named, unique_warehouse

pytestmark = pytest.mark.brokers

DEAD_LETTERS_WITHIN = 60.0
CRASH = "unexpected_error"  # the reason of a message that broke the code reading it


@dataclass
class Channel:
    """One input channel's run: what was sent, and what came out applied or dead-lettered."""

    name: str
    hostile: list[Hostile]
    valid: int
    applied: int = 0
    dead_lettered: int = 0

    @property
    def lost(self) -> int:
        """Messages neither applied nor dead-lettered."""
        return self.valid + len(self.hostile) - self.applied - self.dead_lettered

    def row(self) -> str:
        """Its line in the README's table."""
        return hostile_row(self.name, self.valid + len(self.hostile), None, self.lost)


async def test_hostile_messages_are_dead_lettered_and_the_valid_ones_applied(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker, a warehouse and the SKUs of this run
    worker = spawn_worker()
    await worker.wait_ready()
    run, where, sku, planned = unique("hostile"), unique_warehouse(), unique("SKU"), unique("SKU")
    # When the WMS sends its corpus, a valid receipt of one unit before each hostile message
    wms = await _wms_channel(worker, where, sku)
    # And ERP sends each topic's corpus, a valid message before each hostile record
    supply = await _supply_channel(worker, run, planned)
    decisions = await _decisions_channel(worker, run, where, sku)
    channels = {"amqp": wms, supply.name: supply, decisions.name: decisions}
    # Then every hostile message is on the dead-letter topic, by source and case, once
    letters = await _hostile_letters(deployment, run, where, channels)
    for key, channel in channels.items():
        assert sorted(name for name, _ in letters[key]) == sorted(c.name for c in channel.hostile)
        channel.dead_lettered = len(letters[key])
    # And each for what it is: none of them crashed the code that refused it
    crashed = [(k, name) for k, found in letters.items() for name, why in found if why == CRASH]
    assert crashed == []
    # And none was lost: each message was applied or dead-lettered
    print(*(channel.row() for channel in channels.values()), sep="\n")
    assert [channel.lost for channel in channels.values()] == [0, 0, 0]
    # And the worker still serves
    assert (await call(worker.url, "GET", "/readyz"))[0] == 200
    assert (await call(worker.url, "GET", f"/v1/atp/{sku}"))[0] == 200


async def _wms_channel(worker: WorkerProcess, where: str, sku: str) -> Channel:
    """The WMS corpus, each case after a receipt of 1; applied: the SKU's on hand."""
    corpus = wms_corpus(where, sku)
    messages = []
    for n, case in enumerate(corpus, start=1):
        valid = f'<Receipt txn="V-{n}" warehouse="{where}"><Line sku="{sku}" qty="1"/></Receipt>'
        messages.append((f"{where}.receipt", valid.encode(), f"valid-{n}"))
        messages.append((case.route, case.body or b"", case.name))
    await publish_named(worker.settings.amqp_url, messages)
    found = await eventually(
        lambda: positions(worker.url, sku),
        lambda p: p is not None and p[where]["on_hand"] >= len(corpus),
        within=60,
    )
    assert found is not None
    return Channel("AMQP `wms.events`", corpus, len(corpus), applied=found[where]["on_hand"])


async def _supply_channel(worker: WorkerProcess, run: str, sku: str) -> Channel:
    """The `erp.supply` corpus, each case after an expected receipt; applied: the SKU's POs."""
    topic = worker.settings.topics.erp_supply.name
    template = _expected_receipt(sku, "PO-0")
    corpus = erp_corpus(topic, template)
    records: list[tuple[bytes, bytes | None]] = []
    for n, case in enumerate(corpus, start=1):
        valid = _expected_receipt(sku, f"PO-{n}") | {"event_id": unique("e")}
        records.append((sku.encode(), _json(valid)))
        records.append((f"{run}.{case.name}".encode(), case.body))
    await produce(worker.settings.kafka_bootstrap, topic, records)

    async def incoming() -> set[str]:
        status, body = await call(worker.url, "GET", f"/v1/atp/{sku}")
        return (
            set()
            if status != 200
            else {i["po_id"] for w in body["warehouses"] for i in w["incoming"]}
        )

    pos = await eventually(incoming, lambda found: len(found) >= len(corpus), within=60)
    return Channel(topic, corpus, len(corpus), applied=len(pos))


async def _decisions_channel(worker: WorkerProcess, run: str, where: str, sku: str) -> Channel:
    """The `erp.order-decisions` corpus, each case after a confirmation of a reserved order."""
    topic = worker.settings.topics.erp_order_decisions.name
    corpus = erp_corpus(topic, {"type": "OrderConfirmed", "event_id": "e-0", "order_id": "O-0"})
    lines = [(sku, 1)]
    orders = [
        await submit(worker.url, "C-1", lines, order_id=f"{run}-{n}", backorder="reject")
        for n in range(len(corpus))
    ]
    await asyncio.gather(*(wait_status(worker.url, order, "RESERVED") for order in orders))
    records: list[tuple[bytes, bytes | None]] = []
    for order, case in zip(orders, corpus, strict=True):
        confirm = {"type": "OrderConfirmed", "event_id": unique("e"), "order_id": order}
        records.append((order.encode(), _json(confirm)))
        records.append((f"{run}.{case.name}".encode(), case.body))
    await produce(worker.settings.kafka_bootstrap, topic, records)
    released = await asyncio.gather(
        *(wait_status(worker.url, order, "RELEASED") for order in orders)
    )
    return Channel(topic, corpus, len(corpus), applied=len(released))


async def _hostile_letters(
    deployment: Settings, run: str, where: str, channels: dict[str, Channel]
) -> dict[str, list[tuple[str, str]]]:
    """The (case name, reason) dead-lettered from each channel ("amqp" or the Kafka topic)."""
    expected = {key: len(channel.hostile) for key, channel in channels.items()}

    def by_channel(records: list[ConsumerRecord]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {key: [] for key in channels}
        for record in records:
            letter = DeadLetter.from_headers(record.headers, record.value or b"", record.key)
            if (mine := _case_of(letter, run, where)) is not None and mine[0] in found:
                found[mine[0]].append((mine[1], letter.reason))
        return found

    seen: dict[str, list[tuple[str, str]]] = {}

    def complete(records: list[ConsumerRecord]) -> bool:
        seen.update(by_channel(records))
        return all(len(found) >= expected[key] for key, found in seen.items())

    with contextlib.suppress(AssertionError):  # too few: the caller's comparison says which
        topic = deployment.topics.dead_letters.name
        await read_until(deployment.kafka_bootstrap, topic, complete, DEAD_LETTERS_WITHIN)
    return seen


def _case_of(letter: DeadLetter, run: str, where: str) -> tuple[str, str] | None:
    """(channel, case name) of one of this run's hostile messages, else None."""
    if letter.source == "amqp":
        headers = dict(letter.headers)
        if headers.get(HEADER_ROUTING_KEY, b"").startswith(f"{where}.".encode()):
            return "amqp", headers[HEADER_MESSAGE_ID].decode()
        return None
    prefix = f"{run}.".encode()
    if letter.key is None or not letter.key.startswith(prefix):
        return None
    return letter.origin, letter.key[len(prefix) :].decode()


def _expected_receipt(sku: str, po_id: str) -> dict[str, Any]:
    eta = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    return {
        "type": "ExpectedReceipt",
        "event_id": "e-0",
        "po_id": po_id,
        "sku": sku,
        "warehouse": "DC-EAST",
        "qty": 5,
        "eta": eta,
    }


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()

"""`distgate dlq` for an operator with many letters: by time, all of a reason at once (more
than the index holds too), by place."""

import asyncio
import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from app.settings import Settings
from tests.conftest import SpawnWorker
from tests.integration.test_dead_letter_admin import dlq
from tests.support.kafka import read_until, unique
from tests.support.polling import eventually
from tests.support.wms import positions, publish_xml, unique_warehouse

pytestmark = pytest.mark.brokers

HELD = "hold_exceeds_on_hand"


def listed(deployment: Settings, *args: str) -> list[dict[str, Any]]:
    """`dlq list --json` with `args`: one letter per line."""
    result = dlq(deployment, "list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


async def held_letters(deployment: Settings, count: int) -> list[dict[str, Any]]:
    """Wait until `count` holds are dead-lettered for lack of stock; the letters, newest first."""
    return await eventually(
        lambda: asyncio.to_thread(listed, deployment, "--reason", HELD),
        lambda letters: len(letters) == count,
    )


async def test_holds_without_stock_are_replayed_all_at_once_and_applied_once(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given holds of 5 units on three SKUs that a warehouse does not have yet
    worker = spawn_worker()
    await worker.wait_ready()
    where, skus = unique_warehouse(), [unique("SKU") for _ in range(3)]

    def xml(kind: str, txn: str, line: str) -> tuple[str, bytes]:
        body = f'<{kind} txn="{txn}" warehouse="{where}">{line}</{kind}>'
        return f"{where}.{kind.lower()}", body.encode()

    holds = [xml("Hold", f"H-{n}", f'<Line sku="{sku}" delta="5"/>') for n, sku in enumerate(skus)]
    await publish_xml(deployment.amqp_url, holds[:1])
    first = await held_letters(deployment, 1)
    between = dt.datetime.now(dt.UTC)
    await publish_xml(deployment.amqp_url, holds[1:])
    letters = await held_letters(deployment, 3)
    # Then `dlq list --since` lists only the letters dead-lettered since then
    later = listed(deployment, "--reason", HELD, "--since", between.isoformat())
    assert [letter["id"] for letter in later] == [letter["id"] for letter in letters[:2]]
    assert first[0]["id"] == letters[2]["id"]
    assert listed(deployment, "--reason", HELD, "--since", "1h") == letters
    # When the stock arrives (10 of each) and every held letter is replayed at once
    receipt = "".join(f'<Line sku="{sku}" qty="10"/>' for sku in skus)
    await publish_xml(deployment.amqp_url, [xml("Receipt", "R-1", receipt)])
    for sku in skus:
        await eventually(lambda sku=sku: positions(worker.url, sku), lambda p: p is not None)
    replayed = dlq(deployment, "replay", "--all", "--reason", HELD, "--since", "1h")
    # Then it says how far it got on stderr and how many it replayed on stdout
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == "replayed 3 of 3 dead letters"
    progress = [line for line in replayed.stderr.splitlines() if line.startswith("[")]
    assert [line.split()[0] for line in progress] == ["[1]", "[2]", "[3]"]
    # And each hold applies
    for sku in skus:
        await eventually(
            lambda sku=sku: positions(worker.url, sku),
            lambda p: p is not None and p[where]["blocked"] == 5,
        )
    # When the same replay runs again
    again = dlq(deployment, "replay", "--all", "--reason", HELD)
    assert again.returncode == 0, again.stderr
    # Then nothing changes: a receipt sent after it lands on holds applied once
    marker = "".join(f'<Line sku="{sku}" qty="1"/>' for sku in skus)
    await publish_xml(deployment.amqp_url, [xml("Receipt", "R-2", marker)])
    for sku in skus:
        after = await eventually(
            lambda sku=sku: positions(worker.url, sku),
            lambda p: p is not None and p[where]["on_hand"] == 11,
        )
        assert after[where]["blocked"] == 5


async def test_one_letter_is_replayed_by_its_place_without_reading_the_topic(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a hold dead-lettered for lack of stock, then the stock
    worker = spawn_worker()
    await worker.wait_ready()
    where, sku = unique_warehouse(), unique("SKU")
    hold = f'<Hold txn="H-1" warehouse="{where}"><Line sku="{sku}" delta="4"/></Hold>'
    await publish_xml(deployment.amqp_url, [(f"{where}.hold", hold.encode())])
    (letter,) = await held_letters(deployment, 1)
    receipt = f'<Receipt txn="R-1" warehouse="{where}"><Line sku="{sku}" qty="10"/></Receipt>'
    await publish_xml(deployment.amqp_url, [(f"{where}.receipt", receipt.encode())])
    await eventually(lambda: positions(worker.url, sku), lambda p: p is not None)
    # Then `dlq list` names it by its record's place
    ref = letter["ref"]
    assert ref.startswith(f"{letter['id']}@")
    table = dlq(deployment, "list", "--reason", HELD)
    assert table.stdout.split()[0] == ref
    # When a reference names a place that holds another record (or none)
    letter_id, place = ref.split("@")
    partition, offset = place.split(":")
    elsewhere = f"{letter_id}@{partition}:{int(offset) + 1000}"
    wrong_id = f"{'0' * 20}@{place}"
    # Then it is refused, saying so: the record there is read, no letter looked up by id
    missing = dlq(deployment, "replay", wrong_id)
    assert missing.returncode == 2
    assert f"no dead letter {wrong_id}: the record there is {letter_id}" in missing.stderr
    assert dlq(deployment, "replay", elsewhere).returncode == 2
    # When the reference `dlq list` printed is replayed
    replayed = dlq(deployment, "replay", ref)
    # Then that letter was sent again, and the hold applies
    assert replayed.returncode == 0, replayed.stderr
    assert (
        f"replayed {letter_id} (kafka) to {deployment.topics.stock_inbox.name}" in replayed.stdout
    )
    await eventually(
        lambda: positions(worker.url, sku),
        lambda p: p is not None and p[where]["blocked"] == 4,
    )


async def test_replay_all_sends_every_letter_once_also_beyond_what_the_index_holds(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given 90 holds of stock a warehouse does not have, each dead-lettered by the stock side
    worker = spawn_worker()
    await worker.wait_ready()
    where, sku = unique_warehouse(), unique("SKU")

    def hold(n: int) -> tuple[str, bytes]:
        body = f'<Hold txn="H-{n}" warehouse="{where}"><Line sku="{sku}-{n}" delta="5"/></Hold>'
        return f"{where}.hold", body.encode()

    await publish_xml(deployment.amqp_url, [hold(n) for n in range(90)])
    letters = await held_letters(deployment, 90)
    # Then an index of 64 KiB holds only some of them
    small = deployment.with_overrides(dead_letter_index_kib=64)
    held = listed(small, "--reason", HELD)
    assert 0 < len(held) < 90
    assert {letter["id"] for letter in held} < {letter["id"] for letter in letters}
    # When every held letter is replayed with that index, while the worker runs and
    # dead-letters each replayed hold again
    replayed = dlq(small, "replay", "--all", "--reason", HELD)
    # Then all 90 were sent again, each once, and the letters dead-lettered during the run
    # were not: the stock inbox holds each hold event exactly twice
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == "replayed 90 of 90 dead letters"
    progress = [line for line in replayed.stderr.splitlines() if line.startswith("[")]
    assert [line.split()[0] for line in progress] == [f"[{n}]" for n in range(1, 91)]
    assert progress[-1].endswith("records read)")
    events = {f"wms:{where}:H-{n}:{sku}-{n}" for n in range(90)}

    def hold_events(records: list[ConsumerRecord]) -> list[str]:
        found = (json.loads(r.value).get("event_id") for r in records if b"HoldChanged" in r.value)
        return [event for event in found if event in events]

    inbox = deployment.topics.stock_inbox.name
    records = await read_until(
        deployment.kafka_bootstrap, inbox, lambda rs: len(hold_events(rs)) >= 2 * len(events)
    )
    assert Counter(hold_events(records)) == Counter({event: 2 for event in events})

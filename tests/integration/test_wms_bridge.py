"""The inbound WMS bridge on the real brokers: XML over AMQP in, canonical Kafka events out."""

import pytest
from aiokafka import ConsumerRecord

from app.settings import Settings
from app.sim.wms import WmsSimulator
from protocols.deadletters import DeadLetter
from protocols.wms import NumberedLine, PickLine, WmsPickConfirm, WmsShipConfirm
from tests.conftest import SpawnWorker
from tests.support.kafka import read_until, unique
from tests.support.polling import eventually
from tests.support.wms import dead_letter_tap, positions, publish_xml, take, unique_warehouse

pytestmark = pytest.mark.brokers


async def test_every_kind_reaches_stock_and_the_order_inbox(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker and a simulated warehouse
    worker = spawn_worker()
    sim = WmsSimulator(deployment.amqp_url, [unique_warehouse()])
    where = sim.warehouses[0]
    await sim.start()
    await worker.wait_ready()
    sku, counted = unique("SKU"), unique("SKU")
    # When it receives 50 of a SKU, adjusts -3, holds 5, and counts 4 of another SKU
    await sim.receipt(where, {sku: 50, counted: 9}, po="PO-1")
    await sim.adjust(where, {sku: -3}, reason="DAMAGED")
    await sim.hold(where, {sku: 5}, reason="QC")
    await sim.count(where, {counted: 4})
    # Then GET /v1/atp shows every effect
    found = await eventually(
        lambda: positions(worker.url, sku),
        lambda p: p is not None and p[where]["blocked"] == 5,
    )
    assert found is not None
    assert (found[where]["on_hand"], found[where]["atp"]) == (47, 42)
    await eventually(
        lambda: positions(worker.url, counted),
        lambda p: p is not None and p[where]["on_hand"] == 4,
    )
    # When the warehouse confirms a pick and a ship, with a correlation id
    order = unique("SO")
    pick = WmsPickConfirm(
        txn=sim.txn(where, "P"), warehouse=where, order=order, lines=(PickLine(1, sku, 2, 1),)
    )
    ship = WmsShipConfirm(
        txn=sim.txn(where, "S"), warehouse=where, order=order, carrier="UPS", tracking="1Z9",
        lines=(NumberedLine(1, sku, 1),),
    )  # fmt: skip
    await sim.publish(pick, correlation_id="corr-7")
    await sim.publish(ship)
    await sim.stop()
    # Then each is one event on the order inbox, keyed by order, with its id and AMQP headers
    records = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.order_inbox.name,
        lambda rs: len(mine(rs, order.encode())) == 2,
    )
    picked, shipped = mine(records, order.encode())
    assert f'"event_id":"wms:{where}:{pick.txn}"'.encode() in picked.value
    assert b'"type":"PickConfirmed"' in picked.value
    assert b'"correlation_id":"corr-7"' in picked.value
    assert dict(picked.headers)["amqp.correlation_id"] == b"corr-7"
    assert dict(picked.headers)["amqp.message_id"] == f"{where}:{pick.txn}".encode()
    assert dict(shipped.headers)["wms.txn"] == ship.txn.encode()
    assert b'"type":"ShipConfirmed"' in shipped.value


def mine(records: list[ConsumerRecord], key: bytes) -> list[ConsumerRecord]:
    return [r for r in records if r.key == key]


async def test_the_same_txn_delivered_three_times_applies_once(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker
    worker = spawn_worker()
    await worker.wait_ready()
    where, sku = unique_warehouse(), unique("SKU")
    receipt = f'<Receipt txn="R-1" warehouse="{where}"><Line sku="{sku}" qty="10"/></Receipt>'
    marker = f'<Receipt txn="R-2" warehouse="{where}"><Line sku="{sku}" qty="1"/></Receipt>'
    # When the WMS sends the same receipt three times, then another one
    key = f"{where}.receipt"
    await publish_xml(deployment.amqp_url, [(key, receipt.encode())] * 3 + [(key, marker.encode())])
    # Then on_hand counts the first once
    found = await eventually(
        lambda: positions(worker.url, sku), lambda p: p is not None and p[where]["on_hand"] >= 11
    )
    assert found is not None
    assert found[where]["on_hand"] == 11


def poison(where: str, sku: str) -> dict[str, tuple[str, bytes]]:
    """Expected dead-letter reason -> (routing key, body) of each kind of bad message."""
    line = f'<Line sku="{sku}" qty="1"/>'

    def receipt(attrs: str, body: str = line) -> bytes:
        return f'<Receipt txn="{unique("X")}" {attrs}>{body}</Receipt>'.encode()

    ok = f'warehouse="{where}"'
    return {
        "malformed_xml": (f"{where}.receipt", receipt(ok)[:-3]),
        "forbidden_xml": (
            f"{where}.receipt",
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]>' + receipt(ok),
        ),
        "oversize": (f"{where}.receipt", receipt(ok, line + " " * (1024 * 1024))),
        "unknown_kind": (f"{where}.teleport", receipt(ok)),
        "warehouse_mismatch": (f"{where}.receipt", receipt('warehouse="ELSEWHERE"')),
        "bad_identifier": (f"{where}.receipt", receipt(ok, '<Line sku="-bad sku" qty="1"/>')),
        "bad_quantity": (f"{where}.receipt", receipt(ok, f'<Line sku="{sku}" qty="0"/>')),
        "bad_quantity_text": (f"{where}.receipt", receipt(ok, f'<Line sku="{sku}" qty="abc"/>')),
    }


async def test_each_poison_is_dead_lettered_and_the_good_messages_around_it_apply(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker, and a tap on what RabbitMQ dead-letters for this warehouse
    worker = spawn_worker()
    await worker.wait_ready()
    where, sku = unique_warehouse(), unique("SKU")
    bad = poison(where, sku)
    good = [
        (f"{where}.receipt", f'<Receipt txn="G-{n}" warehouse="{where}">'
         f'<Line sku="{sku}" qty="{n}"/></Receipt>'.encode())
        for n in (1, 2, 3)
    ]  # fmt: skip
    too_much_hold = f'<Hold txn="H-1" warehouse="{where}"><Line sku="{sku}" delta="99"/></Hold>'
    async with dead_letter_tap(deployment, where) as dead:
        # When every kind of poison arrives between good messages, and a hold beyond on_hand
        await publish_xml(
            deployment.amqp_url,
            [good[0], *bad.values(), good[1], (f"{where}.hold", too_much_hold.encode()), good[2]],
        )
        # Then the good ones apply
        await eventually(
            lambda: positions(worker.url, sku),
            lambda p: p is not None and p[where]["on_hand"] == 6,
        )
        # And each bad one is in the AMQP dead-letter queue with its original bytes and key
        dead_lettered = await take(dead, len(bad))
    assert {(m.routing_key, m.body) for m in dead_lettered} == set(bad.values())
    # And on the dead-letter topic with its reason; the hold beyond on_hand from the stock agent
    letters = await read_until(
        deployment.kafka_bootstrap,
        deployment.topics.dead_letters.name,
        lambda rs: len(for_warehouse(rs, where, sku)) >= len(bad) + 1,
    )
    found = for_warehouse(letters, where, sku)
    reasons = sorted(d.reason for d in found)
    expected = sorted([*(reason.removesuffix("_text") for reason in bad), "hold_exceeds_on_hand"])
    assert reasons == expected
    assert {d.source for d in found if d.reason != "hold_exceeds_on_hand"} == {"amqp"}
    hold = next(d for d in found if d.reason == "hold_exceeds_on_hand")
    assert (hold.source, hold.origin) == ("kafka", deployment.topics.stock_inbox.name)


def for_warehouse(records: list[ConsumerRecord], where: str, sku: str) -> list[DeadLetter]:
    """The dead letters of this test: AMQP ones by routing key, Kafka ones by SKU."""
    letters = [DeadLetter.from_headers(r.headers, r.value, r.key) for r in records]
    return [
        d
        for d in letters
        if dict(d.headers).get("amqp.routing_key", b"").startswith(where.encode())
        or (d.source == "kafka" and d.key == sku.encode())
    ]

"""One receipt and one order end every flow, and the worker's /metrics shows each one timed."""

import time

import pytest

from app.settings import Settings
from protocols.erp import ErpOrderConfirmed
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import Warehouse, call, erp_decides, submit, wait_status
from tests.support.wms import metric, unique_warehouse

pytestmark = pytest.mark.brokers

FLOWS = ("wms_to_atp", "order_to_reserved", "erp_decision_wait", "order_to_released",
         "release_to_ship")  # fmt: skip


async def flow(url: str, name: str) -> tuple[float, float]:
    """How many of flow `name` ended, and their seconds in total, as the scrape shows."""
    count = await metric(url, f'distgate_flow_latency_seconds_count{{flow="{name}"}}')
    total = await metric(url, f'distgate_flow_latency_seconds_sum{{flow="{name}"}}')
    return count, total


async def test_a_receipt_and_an_order_show_in_every_flow_histogram(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a fresh deployment: no flow has ended yet, each with its SLA exposed
    worker = spawn_worker()
    await worker.wait_ready()
    assert [await flow(worker.url, name) for name in FLOWS] == [(0, 0)] * len(FLOWS)
    assert await metric(worker.url, 'distgate_flow_sla_seconds{flow="wms_to_atp"}') == 1.0
    sku, where = unique("SKU"), unique_warehouse()
    began = time.monotonic()
    async with Warehouse(deployment.amqp_url, where) as wms:
        # When the WMS receives 5 units over AMQP
        await wms.send(
            "receipt",
            f'<Receipt txn="{unique("R")}" warehouse="{where}">'
            f'<Line sku="{sku}" qty="5"/></Receipt>',
        )
        await eventually(
            lambda: call(worker.url, "GET", f"/v1/atp/{sku}"),
            lambda answer: answer[0] == 200 and answer[1]["atp"] == 5,
        )
        # And a shop orders 2, ERP confirms, the WMS picks and ships them
        order_id = await submit(worker.url, unique("C"), [(sku, 2)])
        await wait_status(worker.url, order_id, "RESERVED")
        decision = ErpOrderConfirmed(event_id=unique("e"), order_id=order_id)
        await erp_decides(deployment.kafka_bootstrap, decision)
        key, _ = await wms.next_command()
        assert key == f"{where}.release"
        await wms.pick(order_id, [(1, sku, 2, 2)])
        await wait_status(worker.url, order_id, "PICKED")
        await wms.ship(order_id, [(1, sku, 2)])
        await wait_status(worker.url, order_id, "SHIPPED")
    elapsed = time.monotonic() - began

    # Then the scrape shows one observation of each flow (the agents report every 0.5 s)
    async def every_flow() -> list[tuple[float, float]]:
        return [await flow(worker.url, name) for name in FLOWS]

    timed = await eventually(every_flow, lambda flows: all(count == 1 for count, _ in flows))
    # And each took some time, and no longer than the whole test's walk through it
    assert all(0 < seconds <= elapsed for _, seconds in timed), (timed, elapsed)

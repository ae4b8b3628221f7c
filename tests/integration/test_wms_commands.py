"""The outbound bridge: Release and Cancel from Kafka to each warehouse's queue, never dropped."""

import aio_pika
import pytest

from app.settings import Settings
from protocols.wms import NumberedLine
from protocols.wms_events import CancelAtWarehouse, ReleaseToWarehouse
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, unique
from tests.support.wms import command_tap, take, unique_warehouse

pytestmark = pytest.mark.brokers


async def test_release_and_cancel_arrive_as_contract_xml(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a ready worker and a WMS queue bound for one warehouse's commands
    worker = spawn_worker()
    where, order = unique_warehouse(), unique("SO")
    release = ReleaseToWarehouse(
        event_id=unique("rel"), order_id=order, warehouse=where, txn="REL-1",
        correlation_id="corr-1", lines=(NumberedLine(1, "SKU-1", 2), NumberedLine(2, "B-2", 1)),
    )  # fmt: skip
    cancel = CancelAtWarehouse(
        event_id=unique("can"), order_id=order, warehouse=where, txn="CAN-1", correlation_id="c2"
    )
    await worker.wait_ready()
    async with command_tap(deployment.amqp_url, where) as queue:
        # When the order side asks for a release, then a cancel
        await produce(
            deployment.kafka_bootstrap,
            deployment.topics.wms_commands.name,
            [(order.encode(), release), (order.encode(), cancel)],
        )
        # Then both arrive in order, as the contract's XML, persistent, with their ids
        released, cancelled = await take(queue, 2)
    assert released.routing_key == f"{where}.release"
    assert (
        released.body
        == (
            f'<Release txn="REL-1" warehouse="{where}" order="{order}">'
            '<Line no="1" sku="SKU-1" qty="2"/><Line no="2" sku="B-2" qty="1"/></Release>'
        ).encode()
    )
    assert released.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert released.content_type == "application/xml"
    assert (released.message_id, released.correlation_id) == (release.event_id, "corr-1")
    assert cancelled.routing_key == f"{where}.cancel"
    assert cancelled.body == f'<Cancel txn="CAN-1" warehouse="{where}" order="{order}"/>'.encode()
    assert (cancelled.message_id, cancelled.correlation_id) == (cancel.event_id, "c2")

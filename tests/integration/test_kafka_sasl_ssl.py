"""A worker on a Kafka that only speaks SASL over TLS, as a managed Kafka does.

Every Kafka path is crossed: the supervisor's topic declaration (admin client), the
bridge's producer (a WMS receipt over AMQP), Faust's consumers and producers (the
stock and order agents), the API's command producer and its changelog mirrors (ATP and
the order's status), and an outside reader of `orders.events` with another mechanism.
"""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiokafka import AIOKafkaConsumer

from app.settings import Settings
from protocols.topics import ORDERS_EVENTS
from tests.conftest import SpawnWorker
from tests.support.polling import eventually
from tests.support.secure_kafka import PLAIN_USER, SCRAM_USER, SecureKafka, secure_kafka
from tests.support.shop import call, submit, wait_status
from tests.support.wms import publish_xml, unique_warehouse

pytestmark = pytest.mark.brokers


@pytest.fixture(scope="module")
def secured(brokers: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    with secure_kafka(tmp_path_factory.mktemp("sasl-ssl-kafka"), brokers.cache_dir) as broker:
        yield broker


def _secured_env(secured: SecureKafka, password_file: Path) -> dict[str, str]:
    return {
        "DISTGATE_KAFKA_URL": secured.url,
        "DISTGATE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "DISTGATE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "DISTGATE_KAFKA_USERNAME": SCRAM_USER[0],
        "DISTGATE_KAFKA_PASSWORD_FILE": str(password_file),
        "DISTGATE_KAFKA_CA_FILE": str(secured.ca_file),
    }


async def test_a_worker_serves_orders_over_sasl_ssl(
    spawn_worker: SpawnWorker, secured: SecureKafka, deployment: Settings, tmp_path: Path
) -> None:
    # Given a worker whose Kafka password is a mounted file
    password = tmp_path / "kafka-password"
    password.write_text(f"{SCRAM_USER[1]}\n")
    worker = spawn_worker("w1", **_secured_env(secured, password))
    await worker.wait_ready()
    # When a warehouse receives stock over AMQP and a shop orders some of it
    warehouse, sku = unique_warehouse(), f"SKU-{uuid.uuid4().hex[:8]}"
    receipt = f'<Receipt txn="R-1" warehouse="{warehouse}"><Line sku="{sku}" qty="5"/></Receipt>'
    await publish_xml(deployment.amqp_url, [(f"{warehouse}.receipt", receipt.encode())])

    async def atp() -> Any:
        return await call(worker.url, "GET", f"/v1/atp/{sku}")

    await eventually(atp, lambda answer: answer[0] == 200, within=60)
    order_id = await submit(worker.url, "C-1", [(sku, 2)])
    # Then the order is reserved and ATP follows
    await wait_status(worker.url, order_id, "RESERVED")
    _, answer = await atp()
    assert answer["atp"] == 3
    # And ERP's side reads the lifecycle from the secured broker with its own mechanism
    assert "OrderReserved" in await _event_types(secured, order_id)


async def test_a_wrong_password_stops_the_worker_with_a_clear_error(
    spawn_worker: SpawnWorker, secured: SecureKafka, tmp_path: Path
) -> None:
    password = tmp_path / "kafka-password"
    password.write_text("not-the-password\n")
    worker = spawn_worker("w1", **_secured_env(secured, password))
    assert worker.process is not None
    assert worker.process.wait(120) == 2
    assert f"cannot reach Kafka at {secured.url.removeprefix('kafka://')}" in worker.log_tail()


async def _event_types(secured: SecureKafka, order_id: str) -> set[str]:
    """The types of the order's events on `orders.events`, read as user alice with PLAIN."""
    options = secured.access("PLAIN", PLAIN_USER).client_options()
    consumer = AIOKafkaConsumer(ORDERS_EVENTS.name, **options, auto_offset_reset="earliest")
    await consumer.start()
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 30
        while "OrderReserved" not in seen and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                seen |= {
                    msgspec.json.decode(record.value or b"{}")["type"]
                    for record in records
                    if record.key == order_id.encode()
                }
        return seen
    finally:
        await consumer.stop()

"""A worker whose RabbitMQ is reached over TLS (amqps, a private CA named in the URL).

Every AMQP path is crossed: the topology declaration, the bridge's consumer (a receipt)
and the command publisher (the Release the order causes).
"""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.conftest import SpawnWorker
from tests.support.polling import eventually
from tests.support.secure_rabbitmq import SecureRabbitMQ, secure_rabbitmq
from tests.support.shop import Warehouse, call, submit, wait_status
from tests.support.wms import unique_warehouse

pytestmark = pytest.mark.brokers


@pytest.fixture(scope="module")
def secured(
    brokers: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecureRabbitMQ]:
    with secure_rabbitmq(tmp_path_factory.mktemp("amqps")) as node:
        yield node


async def test_a_worker_bridges_and_releases_over_amqps(
    spawn_worker: SpawnWorker, secured: SecureRabbitMQ, tmp_path: Path
) -> None:
    # Given a worker whose AMQP URL is amqps:// with the node's CA, read from a file
    url_file = tmp_path / "amqp-url"
    url_file.write_text(secured.url + "\n")
    worker = spawn_worker(
        "w1", DISTGATE_AMQP_URL="", DISTGATE_AMQP_URL_FILE=str(url_file),
        DISTGATE_ERP_CONFIRMATION="auto",
    )  # fmt: skip
    await worker.wait_ready()
    sku = f"SKU-{uuid.uuid4().hex[:8]}"
    async with Warehouse(secured.url, unique_warehouse()) as warehouse:
        # When the warehouse receives stock over TLS and a shop orders some of it
        line = f'<Line sku="{sku}" qty="4"/>'
        await warehouse.send(
            "receipt", f'<Receipt txn="R-1" warehouse="{warehouse.code}">{line}</Receipt>'
        )

        async def atp() -> Any:
            return await call(worker.url, "GET", f"/v1/atp/{sku}")

        await eventually(atp, lambda answer: answer[0] == 200 and answer[1]["atp"] == 4, within=60)
        order_id = await submit(worker.url, "C-1", [(sku, 3)])
        # Then the order is released, and the Release reaches the warehouse over TLS
        await wait_status(worker.url, order_id, "RELEASED")
        key, body = await warehouse.next_command()
    assert key == f"{warehouse.code}.release"
    assert f'order="{order_id}"' in body.decode()

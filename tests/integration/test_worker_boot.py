"""A worker boots on the real brokers, declares its topology and serves its operational API."""

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aio_pika
import aiohttp
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from app.dev.workers import free_port
from app.settings import Settings
from app.topology import declare_kafka_topics
from tests.conftest import SpawnWorker
from tests.support.kafka import produce, unique
from tests.support.polling import eventually
from tests.support.wms import publish_xml, unique_warehouse

T = TypeVar("T")

pytestmark = pytest.mark.brokers


async def test_worker_becomes_ready_and_serves_operational_endpoints(
    spawn_worker: SpawnWorker,
) -> None:
    # Given a worker on the dev stack
    worker = spawn_worker()
    # When it has started
    await worker.wait_ready()
    async with aiohttp.ClientSession() as http:
        # Then it is alive and ready, with per-table progress
        async with http.get(f"{worker.url}/healthz") as response:
            assert response.status == 200
        async with http.get(f"{worker.url}/readyz") as response:
            body = await response.json()
            assert response.status == 200
            assert body["status"] == "ready"
            assert all(table["ready"] for table in body["tables"])
        # And every response carries the caller's correlation id
        async with http.get(f"{worker.url}/healthz", headers={"X-Correlation-ID": "abc-123"}) as r:
            assert r.headers["X-Correlation-ID"] == "abc-123"
        # And metrics are Prometheus text that counts the requests just made
        async with http.get(f"{worker.url}/metrics") as response:
            text = await response.text()
            assert response.content_type == "text/plain"
            assert (
                'distgate_http_requests_total{method="GET",route="/healthz",status="200"}' in text
            )
        # And the OpenAPI document is 3.1 and describes the operational endpoints
        async with http.get(f"{worker.url}/openapi.json") as response:
            document = await response.json()
            assert document["openapi"] == "3.1.0"
            assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])


async def test_errors_are_problem_json_with_correlation_id(spawn_worker: SpawnWorker) -> None:
    # Given a ready worker
    worker = spawn_worker()
    await worker.wait_ready()
    # When a client asks for something that does not exist
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{worker.url}/v1/nothing-here") as response,
    ):
        body = await response.json(content_type=None)
    # Then the answer is RFC 9457 problem+json with a fresh correlation id
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["detail"]
    assert len(response.headers["X-Correlation-ID"]) >= 16


async def test_worker_declares_kafka_topics_and_amqp_topology(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a worker of a deployment that has started
    worker = spawn_worker()
    await worker.wait_ready()
    # Then every topic of the deployment's registry exists
    admin = AIOKafkaAdminClient(bootstrap_servers=deployment.kafka_bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    assert {spec.name for spec in deployment.topics.all()} <= topics
    # And the AMQP exchanges and its queues exist (passive declares fail when missing)
    connection = await aio_pika.connect(deployment.amqp_url)
    async with connection:
        channel = await connection.channel()
        for exchange in deployment.wms_queues.exchanges():
            await channel.get_exchange(exchange.name, ensure=True)
        for queue in deployment.wms_queues.queues():
            await channel.get_queue(queue.name, ensure=True)


async def test_sigterm_stops_the_worker_cleanly(spawn_worker: SpawnWorker) -> None:
    # Given a ready worker
    worker = spawn_worker()
    await worker.wait_ready()
    # When it receives SIGTERM
    code = worker.terminate(timeout=60)
    # Then it exits with status 0
    assert code == 0, worker.log_tail()


def test_open_api_on_a_public_address_is_refused(tmp_path: object) -> None:
    # Given no tokens file and a non-loopback HTTP host
    env = {"DISTGATE_HTTP_HOST": "0.0.0.0", "DISTGATE_DATA_DIR": str(tmp_path)}
    # When the worker starts
    result = subprocess.run(
        [sys.executable, "-m", "app", "worker"],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then it refuses with a clear message and a non-zero exit code
    assert result.returncode == 2
    assert "DISTGATE_API_TOKENS_FILE" in result.stderr


def test_a_time_zone_that_does_not_exist_stops_the_worker_at_once(tmp_path: object) -> None:
    # Given a misspelt business time zone
    env = {"DISTGATE_TIMEZONE": "Europe/Berlim", "DISTGATE_DATA_DIR": str(tmp_path)}
    # When the worker starts
    result = subprocess.run(
        [sys.executable, "-m", "app", "worker"],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then it refuses with one line naming the variable and the value, exit code 2
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "distgate: error: DISTGATE_TIMEZONE='Europe/Berlim' is not an IANA time zone name "
        "(e.g. UTC, Europe/Berlin, America/Chicago)"
    ]


@pytest.mark.parametrize("broker", ["Kafka", "RabbitMQ"])
def test_a_broker_that_is_down_stops_the_worker_at_once(
    broker: str, brokers: Settings, tmp_path: Path
) -> None:
    # Given one broker's URL pointing at a port nobody listens on
    nobody = f"127.0.0.1:{free_port()}"
    urls = {"DISTGATE_KAFKA_URL": brokers.kafka_url, "DISTGATE_AMQP_URL": brokers.amqp_url}
    if broker == "Kafka":
        urls["DISTGATE_KAFKA_URL"] = f"kafka://{nobody}"
    else:
        urls["DISTGATE_AMQP_URL"] = f"amqp://guest:guest@{nobody}/"
    # When the worker starts
    result = subprocess.run(
        [sys.executable, "-m", "app", "worker"],
        env={**_base_env(), **urls, "DISTGATE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then it refuses with one clear line naming the broker, and a non-zero exit code
    assert result.returncode == 2
    assert result.stderr.startswith(f"distgate: error: cannot reach {broker} at {nobody}")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DISTGATE_")}


async def test_json_logs_are_one_object_per_line_with_the_requests_correlation_id(
    spawn_worker: SpawnWorker, deployment: Settings
) -> None:
    # Given a worker that logs JSON
    worker = spawn_worker("w1", DISTGATE_LOG_FORMAT="json")
    await worker.wait_ready()
    # When a client calls it with its own correlation id
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{worker.url}/healthz", headers={"X-Correlation-ID": "trace-me-7"}) as response,
    ):
        assert response.status == 200

    # Then its log has an access line for the call, with the id, the status and the duration
    def access_lines() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in worker.log_path.read_text().splitlines()]
        return [line for line in lines if line.get("correlation_id") == "trace-me-7"]

    lines = await eventually(_async(access_lines), bool, within=10)
    assert lines[0]["logger"] == "distgate.access"
    assert (lines[0]["process"], lines[0]["path"], lines[0]["status"]) == ("api", "/healthz", 200)
    assert isinstance(lines[0]["duration_ms"], float)
    # When a WMS sends poison XML in its flow, and ERP and a stray producer send records
    # that are not JSON in theirs, to a relay and to the WMS command publisher
    where, flow = unique_warehouse(), unique("flow")
    await publish_xml(
        deployment.amqp_url, [(f"{where}.receipt", b"<Receipt")], correlation_id=f"{flow}-wms"
    )
    for topic, said in (
        (deployment.topics.erp_order_decisions.name, f"{flow}-erp"),
        (deployment.topics.wms_commands.name, f"{flow}-cmd"),
    ):
        await produce(
            deployment.kafka_bootstrap, topic, [(b"O-1", b"{")], [("correlation_id", said.encode())]
        )

    # Then the bridge's and the agents' dead-letter lines carry each one's correlation id,
    # and the bridge's the warehouse it came from
    def dead_letter_lines() -> dict[str, tuple[object, object]]:
        lines = [json.loads(line) for line in worker.log_path.read_text().splitlines()]
        return {
            str(line["correlation_id"]): (line["process"], line.get("warehouse"))
            for line in lines
            if str(line.get("correlation_id", "")).startswith(flow)
            and str(line["message"]).startswith("dead-lettered")
        }

    said = await eventually(_async(dead_letter_lines), lambda found: len(found) == 3, within=30)
    assert said == {
        f"{flow}-wms": ("bridge", where),
        f"{flow}-erp": ("agents-0", None),
        f"{flow}-cmd": ("agents-0", None),
    }
    # And every line any of its processes wrote parsed as JSON (json.loads above raised otherwise)
    processes = {json.loads(line)["process"] for line in worker.log_path.read_text().splitlines()}
    assert {"agents-0", "bridge", "api"} <= processes


def _async(probe: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    async def call() -> T:
        return probe()

    return call


async def test_consumer_lag_is_reported_per_assigned_partition(spawn_worker: SpawnWorker) -> None:
    # Given a ready worker of one agents process
    worker = spawn_worker()
    await worker.wait_ready()
    inbox = worker.settings.topics.stock_inbox.name
    # Then /metrics gives each of its inbox's partitions a lag, caught up at rest
    samples = [f'distgate_consumer_lag{{partition="{p}",topic="{inbox}"}}' for p in range(8)]

    async def reported() -> list[str]:
        async with aiohttp.ClientSession() as http, http.get(f"{worker.url}/metrics") as r:
            text = await r.text()
        return [line for line in text.splitlines() if line.rpartition(" ")[0] in samples]

    # (a new deployment's relays may still be forwarding ERP's history onto the inbox)
    def caught_up(found: list[str]) -> bool:
        return len(found) == 8 and all(line.endswith(" 0.0") for line in found)

    await eventually(reported, caught_up, within=30)


async def test_dead_letters_are_kept_forever_also_on_a_topic_made_before(
    deployment: Settings,
) -> None:
    # Given a dead-letter topic that an older release created with Kafka's 7-day retention
    letters = deployment.topics.dead_letters.name
    admin = AIOKafkaAdminClient(bootstrap_servers=deployment.kafka_bootstrap)
    await admin.start()

    async def retention() -> str:
        resource = ConfigResource(ConfigResourceType.TOPIC, letters)
        described = await admin.describe_configs([resource])
        # a topic just made may not show its configs yet: "" until it does
        return str(
            dict(entry[:2] for entry in described[0].resources[0][4]).get("retention.ms", "")
        )

    try:
        await admin.create_topics([NewTopic(letters, deployment.partitions, 1)])
        await eventually(retention, lambda value: value == "604800000", within=10)
        # When a worker declares its topology
        await declare_kafka_topics(deployment, deployment.topics.all())
        # Then the topic keeps its letters until an operator acts on them (the broker
        # applies a config change a moment later)
        await eventually(retention, lambda value: value == "-1", within=10)
    finally:
        await admin.close()

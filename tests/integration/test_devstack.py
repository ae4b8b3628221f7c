"""`distgate dev up|down|status` against the real Kafka and RabbitMQ.

The shared stack (default ports, home var/dev) is only ever started here, never stopped:
other tests use it. Stopping, restarting and resetting are tested on a second, private stack
on other ports, with its own home and its own epmd.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aio_pika
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.dev import process, stack
from app.dev.stack import Ports, ServiceStatus
from tests.support.kafka import topic_names

pytestmark = pytest.mark.brokers

SHARED_HOME = Path(__file__).resolve().parents[2] / "var" / "dev"
CACHE = Path.home() / ".cache" / "distgate"
PRIVATE_PORTS = Ports(
    kafka=19092, kafka_controller=19093, amqp=15673, erlang_dist=25673, epmd=14369
)


def _quiet(_: str) -> None:
    """Swallow progress messages."""


def _by_name(statuses: list[ServiceStatus]) -> dict[str, ServiceStatus]:
    return {status.name: status for status in statuses}


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as in /proc/net/tcp*) listening on port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def _is_loopback(hex_address: str) -> bool:
    return hex_address in {
        "0100007F",  # 127.0.0.1
        "00000000000000000000000001000000",  # ::1
        "0000000000000000FFFF00000100007F",  # ::ffff:127.0.0.1
    }


def test_up_twice_reports_both_services_running() -> None:
    # Given the shared stack is up (started now if nothing runs yet)
    first = _by_name(stack.up(SHARED_HOME, CACHE, _quiet))

    # When `up` runs again
    second = _by_name(stack.up(SHARED_HOME, CACHE, _quiet))

    # Then both services run, unchanged, and `status` says the same
    assert set(second) == {"kafka", "rabbitmq"}
    assert all(service.running for service in second.values())
    assert second == first
    assert _by_name(stack.status(SHARED_HOME)) == second
    assert second["kafka"].address == "127.0.0.1:9092"
    assert second["rabbitmq"].address == "127.0.0.1:5672"


def test_down_leaves_brokers_it_did_not_start_alone(tmp_path: Path) -> None:
    # Given the shared stack is up, and a home that never started anything
    stack.up(SHARED_HOME, CACHE, _quiet)
    other_home = tmp_path / "dev"

    # When `up` and then `down` run with that other home
    reused = _by_name(stack.up(other_home, CACHE, _quiet))
    after_down = _by_name(stack.down(other_home, _quiet))

    # Then the running brokers were reused, not managed, and survive the `down`
    assert all(s.running and not s.managed and s.pid is None for s in reused.values())
    assert all(s.running and not s.managed for s in after_down.values())
    assert all(s.running for s in stack.status(SHARED_HOME))


def test_private_stack_goes_down_and_up_again(tmp_path: Path) -> None:
    # Given a private stack on ports nothing else uses
    ports = PRIVATE_PORTS
    all_ports = [ports.kafka, ports.kafka_controller, ports.amqp, ports.erlang_dist, ports.epmd]
    if any(process.port_open("127.0.0.1", port) for port in all_ports):
        pytest.skip(f"one of the private stack's ports {all_ports} is taken")
    home = tmp_path / "dev"

    try:
        # When it is brought up
        started = _by_name(stack.up(home, CACHE, _quiet, ports=ports))

        # Then we manage both services, and every port listens on loopback only
        assert all(s.running and s.managed and s.pid for s in started.values())
        for port in all_ports:
            addresses = _listening_addresses(port)
            assert addresses, f"nothing listens on {port}"
            assert all(map(_is_loopback, addresses)), f"{port} listens on {addresses}"

        # When it is brought down
        stopped = _by_name(stack.down(home, _quiet, ports=ports))

        # Then nothing of it runs or listens, and no pid file is left
        assert not any(s.running or s.managed for s in stopped.values())
        assert not any(process.port_open("127.0.0.1", port) for port in all_ports)
        assert not list(home.rglob("*.pid"))

        # When it is brought up again (warm: jars cached, storage formatted)
        restarted = _by_name(stack.up(home, CACHE, _quiet, ports=ports))

        # Then it runs again, as new processes
        assert all(s.running and s.managed for s in restarted.values())
        assert restarted["kafka"].pid != started["kafka"].pid
    finally:
        stack.down(home, _quiet, ports=ports)


async def test_reset_wipes_the_private_stack_and_refuses_a_stack_it_did_not_start(
    tmp_path: Path,
) -> None:
    # Given a private stack with a topic and a queue
    ports = PRIVATE_PORTS
    all_ports = [ports.kafka, ports.kafka_controller, ports.amqp, ports.erlang_dist, ports.epmd]
    if any(process.port_open("127.0.0.1", port) for port in all_ports):
        pytest.skip(f"one of the private stack's ports {all_ports} is taken")
    home, said = tmp_path / "dev", []
    bootstrap, amqp_url = f"127.0.0.1:{ports.kafka}", f"amqp://guest:guest@127.0.0.1:{ports.amqp}/"
    try:
        await asyncio.to_thread(stack.up, home, CACHE, _quiet, ports=ports)
        await _create_topic(bootstrap, "reset-probe")
        await _declare_queue(amqp_url, "reset-probe")

        # When another home resets the stack's ports
        # Then it refuses, saying whose brokers these are, and the topic is still there
        with pytest.raises(stack.DevStackError, match="not started by `distgate dev`"):
            await asyncio.to_thread(stack.reset, tmp_path / "other", _quiet, ports=ports)
        assert "reset-probe" in await topic_names(bootstrap)

        # When the home that started it resets it
        stopped = _by_name(await asyncio.to_thread(stack.reset, home, said.append, ports=ports))

        # Then both brokers are stopped and it says which data it deleted
        assert not any(s.running for s in stopped.values())
        assert any(line.startswith("deleted ") and "kafka" in line for line in said)
        assert any(line.startswith("deleted ") and "mnesia" in line for line in said)

        # When it is brought up again
        await asyncio.to_thread(stack.up, home, CACHE, _quiet, ports=ports)

        # Then it starts clean: neither the topic nor the queue exists
        assert "reset-probe" not in await topic_names(bootstrap)
        assert not await _queue_exists(amqp_url, "reset-probe")
    finally:
        stack.down(home, _quiet, ports=ports)


async def _create_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


async def _declare_queue(amqp_url: str, name: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await (await connection.channel()).declare_queue(name, durable=True)


async def _queue_exists(amqp_url: str, name: str) -> bool:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        try:
            await (await connection.channel()).declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return False
        return True

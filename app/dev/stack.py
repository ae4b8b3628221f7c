"""`distgate dev up|down|status|reset`: the local Kafka and RabbitMQ, managed together."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from yarl import URL

from app.dev import kafka, process, rabbitmq
from app.dev.service import DevStackError, Ports, ServiceStatus

__all__ = [
    "DEFAULT_PORTS",
    "DevStackError",
    "Ports",
    "ServiceStatus",
    "down",
    "ports_for",
    "reset",
    "status",
    "up",
]

DEFAULT_PORTS = Ports()


def ports_for(kafka_bootstrap: str, amqp_url: str) -> Ports:
    """The stack the settings point at: the default one, or one on their Kafka and AMQP ports.

    Off the defaults, the ports only a start needs follow: Kafka's controller on Kafka's
    port + 1, Erlang distribution and epmd on the AMQP port + 1 and + 2.
    """
    kafka_port = int(kafka_bootstrap.split(",")[0].rpartition(":")[2])
    amqp_port = URL(amqp_url).port or DEFAULT_PORTS.amqp
    if (kafka_port, amqp_port) == (DEFAULT_PORTS.kafka, DEFAULT_PORTS.amqp):
        return DEFAULT_PORTS
    return Ports(kafka_port, kafka_port + 1, amqp_port, amqp_port + 1, amqp_port + 2)


def up(
    home: Path, cache: Path, say: Callable[[str], None] = print, *, ports: Ports = DEFAULT_PORTS
) -> list[ServiceStatus]:
    """Start whatever of Kafka and RabbitMQ is not running yet (both at once); report both."""
    say = _one_at_a_time(say)
    with process.locked(home / "dev.lock"):
        return _together(
            partial(kafka.up, home, cache, ports, say), partial(rabbitmq.up, home, ports, say)
        )


def down(
    home: Path, say: Callable[[str], None] = print, *, ports: Ports = DEFAULT_PORTS
) -> list[ServiceStatus]:
    """Stop what `up` started under home (by its pid files); leave other brokers alone."""
    say = _one_at_a_time(say)
    with process.locked(home / "dev.lock"):
        return _together(
            partial(kafka.down, home, ports, say), partial(rabbitmq.down, home, ports, say)
        )


def reset(
    home: Path, say: Callable[[str], None] = print, *, ports: Ports = DEFAULT_PORTS
) -> list[ServiceStatus]:
    """Stop the stack home started and delete its data, so that `up` starts clean."""
    say = _one_at_a_time(say)
    with process.locked(home / "dev.lock"):
        foreign = [s for s in status(home, ports=ports) if s.running and not s.managed]
        if foreign:
            raise DevStackError(_not_ours(foreign, home))
        stopped = _together(
            partial(kafka.down, home, ports, say), partial(rabbitmq.down, home, ports, say)
        )
        for data in (
            kafka.data_dir(kafka.daemon(home, ports).workdir),
            rabbitmq.data_dir(rabbitmq.daemon(home, ports).workdir),
        ):
            if data.exists():
                shutil.rmtree(data)
                say(f"deleted {data}")
        return stopped


def _not_ours(running: list[ServiceStatus], home: Path) -> str:
    """Why reset refuses: it never deletes the data of brokers another home started."""
    where = " and ".join(f"{s.name} on {s.address}" for s in running)
    return (
        f"{where}: running, but not started by `distgate dev` under {home}; nothing was "
        "reset (stop the brokers where they were started, or set DISTGATE_DATA_DIR to the "
        "folder that started them)"
    )


def status(home: Path, *, ports: Ports = DEFAULT_PORTS) -> list[ServiceStatus]:
    """Say what runs on the dev-stack ports, and whether `up` under home started it."""
    return [kafka.status(home, ports), rabbitmq.status(home, ports)]


def _together(*steps: Callable[[], ServiceStatus]) -> list[ServiceStatus]:
    """Run one step per service in parallel; raise one DevStackError naming every failure."""
    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        futures = [pool.submit(step) for step in steps]
    errors = [error for future in futures if (error := future.exception()) is not None]
    for error in errors:
        if not isinstance(error, DevStackError):
            raise error
    if errors:
        raise DevStackError("\n\n".join(map(str, errors)))
    return [future.result() for future in futures]


def _one_at_a_time(say: Callable[[str], None]) -> Callable[[str], None]:
    """Wrap say so messages from the two service threads never interleave."""
    lock = threading.Lock()

    def serialised(message: str) -> None:
        with lock:
            say(message)

    return serialised

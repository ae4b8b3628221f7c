"""`distgate dev up|down|status`: the local Kafka and RabbitMQ, started and stopped together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from app.dev import kafka, process, rabbitmq
from app.dev.service import DevStackError, Ports, ServiceStatus

__all__ = [
    "DEFAULT_PORTS",
    "DevStackError",
    "Ports",
    "ServiceStatus",
    "down",
    "status",
    "up",
    "up_if_default",
]

DEFAULT_PORTS = Ports()


def up(
    home: Path, cache: Path, say: Callable[[str], None] = print, *, ports: Ports = DEFAULT_PORTS
) -> list[ServiceStatus]:
    """Start whatever of Kafka and RabbitMQ is not running yet (both at once); report both."""
    say = _one_at_a_time(say)
    with process.locked(home / "dev.lock"):
        return _together(
            partial(kafka.up, home, cache, ports, say), partial(rabbitmq.up, home, ports, say)
        )


def up_if_default(
    home: Path, cache: Path, kafka_url: str, amqp_url: str, say: Callable[[str], None] = print
) -> list[ServiceStatus]:
    """`up` when the URLs name the default brokers; brokers elsewhere are looked at, never started.

    A second stack on other ports (another worktree's, a test's) is someone's to run: starting
    a missing one here would take the default stack's other ports from under its owner.
    """
    ports = Ports(
        kafka=_port(kafka_url, DEFAULT_PORTS.kafka), amqp=_port(amqp_url, DEFAULT_PORTS.amqp)
    )
    if ports == DEFAULT_PORTS:
        return up(home, cache, say)
    return status(home, ports=ports)


def _port(url: str, default: int) -> int:
    """The port of a broker URL's first host (Kafka URLs may list several, `;`-separated)."""
    return urlsplit(url.split(";", 1)[0]).port or default


def down(
    home: Path, say: Callable[[str], None] = print, *, ports: Ports = DEFAULT_PORTS
) -> list[ServiceStatus]:
    """Stop what `up` started under home (by its pid files); leave other brokers alone."""
    say = _one_at_a_time(say)
    with process.locked(home / "dev.lock"):
        return _together(
            partial(kafka.down, home, ports, say), partial(rabbitmq.down, home, ports, say)
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

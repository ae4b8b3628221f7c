"""Crash and restart the dev stack's brokers: only those `distgate dev` started under our home.

The pid files under `<DISTGATE_DATA_DIR>/dev` name the process groups `distgate dev up`
started; a broker found without one belongs to someone else and is never touched.
"""

import asyncio
import os
import signal

from app.dev import kafka, process, rabbitmq, stack
from app.dev.service import HOST, Daemon
from app.settings import Settings

GONE_WITHIN_S = 15.0


class NotOurBroker(Exception):
    """The broker to crash was not started by `distgate dev` under this data dir."""


def _daemon(settings: Settings, name: str) -> Daemon:
    ports = stack.ports_for(settings.kafka_bootstrap, settings.amqp_url)
    if name == "kafka":
        return kafka.daemon(settings.dev_home, ports)
    return rabbitmq.daemon(settings.dev_home, ports)


def crash(settings: Settings, name: str) -> int:
    """kill -9 the broker's whole process group, as a power cut would; its pid."""
    daemon = _daemon(settings, name)
    pid = process.read_pid(daemon.pid_file, daemon.marker)
    if pid is None:
        raise NotOurBroker(f"{name} on {daemon.address} has no pid file under {daemon.workdir}")
    os.killpg(pid, signal.SIGKILL)
    # The leader turns zombie while its other threads still exit holding the port: a
    # start then would find the port served by "someone else" and refuse.
    process.wait_until(
        lambda: not process.is_alive(pid) and not process.port_open(HOST, daemon.port),
        GONE_WITHIN_S,
    )
    return pid


async def start(settings: Settings) -> None:
    """`distgate dev up` again: starts whatever of the stack is not running."""
    ports = stack.ports_for(settings.kafka_bootstrap, settings.amqp_url)
    await asyncio.to_thread(
        stack.up, settings.dev_home, settings.cache_dir, lambda _message: None, ports=ports
    )

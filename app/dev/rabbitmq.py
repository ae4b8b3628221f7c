"""RabbitMQ from Debian's rabbitmq-server package, run as root without systemd, on loopback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import aio_pika
from aiormq.exceptions import AMQPError

from app.dev import epmd, process
from app.dev.service import (
    HOST,
    Daemon,
    DevStackError,
    Ports,
    ServiceStatus,
    base_env,
    ensure_answers,
    inspect,
    launch,
    owner,
    report_down,
    require_free,
    run,
    run_coroutine,
    wait_ready,
)

# The wrapper in /usr/sbin switches to the rabbitmq user; this script runs as the caller.
SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
NODE = "distgate@localhost"
# A WMS message reaches the bridge only whole: the broker's limit (128 MiB by default) is
# what bounds the bridge's memory per message. 4 MiB still delivers the messages over the
# contract's 1 MiB, which must reach the bridge to be dead-lettered as oversize.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
CONFIG = (
    "listeners.tcp.1 = {host}:{port}\nloopback_users = none\n"
    f"max_message_size = {MAX_MESSAGE_BYTES}\n"
)


def daemon(home: Path, ports: Ports) -> Daemon:
    """The broker process under home/rabbitmq."""
    return Daemon("rabbitmq", home / "rabbitmq", ports.amqp, "rabbitmq-server")


def data_dir(workdir: Path) -> Path:
    """The node's mnesia database: queues, exchanges and messages (`dev reset` deletes it)."""
    return workdir / "mnesia"


def status(home: Path, ports: Ports) -> ServiceStatus:
    """Whether a broker answers on the AMQP port, and whether we started it."""
    return inspect(daemon(home, ports))


def up(
    home: Path, ports: Ports, say: Callable[[str], None], *, extra_config: str = ""
) -> ServiceStatus:
    """Start the broker unless one already runs; install the Debian package when missing.

    `extra_config` lines are added to rabbitmq.conf (the tests' TLS listener).
    """
    rabbit = daemon(home, ports)
    current = inspect(rabbit)
    if current.running:
        say(f"rabbitmq: already running on {rabbit.address} ({owner(current)})")
        return ensure_answers(current, _answers(ports.amqp), "AMQP")
    if current.pid is not None:
        say(f"rabbitmq: pid {current.pid} runs but {rabbit.address} is closed; waiting")
        return wait_ready(rabbit, current.pid, [str(SERVER)], _answers(ports.amqp))
    require_free("rabbitmq (Erlang distribution)", ports.erlang_dist)
    ensure_installed(rabbit.workdir, say)
    epmd.ensure(rabbit.workdir, ports.epmd, say)
    env = _write_config(rabbit.workdir, ports, extra_config)
    say(f"rabbitmq: starting RabbitMQ on {rabbit.address} (log {rabbit.log_file})")
    return launch(rabbit, [str(SERVER)], env, _answers(ports.amqp))


def down(home: Path, ports: Ports, say: Callable[[str], None]) -> ServiceStatus:
    """Stop the broker (and the epmd we started) if we started it; leave others alone."""
    rabbit = daemon(home, ports)
    pid = process.stop(rabbit.pid_file, rabbit.marker)
    after = report_down(inspect(rabbit), pid, say)
    epmd.stop_if_unused(rabbit.workdir, ports.epmd, NODE, say)
    return after


def ensure_installed(workdir: Path, say: Callable[[str], None]) -> None:
    """Install Debian's rabbitmq-server with apt-get unless it is there already."""
    if SERVER.is_file():
        return
    if shutil.which("apt-get") is None:
        raise DevStackError(f"RabbitMQ is not installed ({SERVER} missing) and apt-get is not here")
    if os.geteuid() != 0:
        raise DevStackError(
            "RabbitMQ is not installed and installing it needs root: run "
            "`sudo apt-get install --no-install-recommends rabbitmq-server`, then `distgate dev up`"
        )
    say("rabbitmq: installing the Debian package rabbitmq-server (apt-get)")
    env = base_env(DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], "apt-get update", workdir / "apt.log", env)
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "rabbitmq-server"]
    run(install, "installing rabbitmq-server", workdir / "apt.log", env)
    if not SERVER.is_file():
        raise DevStackError(f"apt-get installed rabbitmq-server but {SERVER} is missing")


def _write_config(workdir: Path, ports: Ports, extra_config: str) -> dict[str, str]:
    """Write the node's config files under workdir; return the environment that uses them."""
    base = workdir.resolve()
    data_dir(base).mkdir(parents=True, exist_ok=True)
    (base / "rabbitmq.conf").write_text(CONFIG.format(host=HOST, port=ports.amqp) + extra_config)
    (base / "enabled_plugins").write_text("[].\n")
    # An empty env file of our own, so /etc/rabbitmq/rabbitmq-env.conf cannot interfere.
    (base / "rabbitmq-env.conf").write_text("# distgate dev: no overrides\n")
    return base_env(
        HOME=str(base),  # the Erlang cookie lives here
        RABBITMQ_NODENAME=NODE,
        RABBITMQ_DIST_PORT=str(ports.erlang_dist),
        RABBITMQ_CONF_ENV_FILE=str(base / "rabbitmq-env.conf"),
        RABBITMQ_CONFIG_FILE=str(base / "rabbitmq.conf"),
        RABBITMQ_ADVANCED_CONFIG_FILE=str(base / "advanced.config"),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "enabled_plugins"),
        RABBITMQ_MNESIA_BASE=str(data_dir(base)),
        RABBITMQ_LOG_BASE=str(base),
        RABBITMQ_LOGS="-",  # to stdout, i.e. into rabbitmq.log with the boot output
        ERL_CRASH_DUMP=str(base / "erl_crash.dump"),
        ERL_EPMD_ADDRESS=HOST,
        ERL_EPMD_PORT=str(ports.epmd),
        # Without this the distribution port listens on every interface.
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
    )


def _answers(port: int) -> Callable[[], bool]:
    """A probe that holds once the broker on port accepts an AMQP connection."""
    return lambda: run_coroutine(amqp_ready(f"amqp://guest:guest@{HOST}:{port}/"))


async def amqp_ready(url: str) -> bool:
    """Tell whether an AMQP connection to url opens (it is closed again at once)."""
    try:
        connection = await aio_pika.connect(url, timeout=5)
    except (AMQPError, OSError, TimeoutError):
        return False
    await connection.close()
    return True

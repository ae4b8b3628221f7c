"""What the dev stack's services share: ports, status, errors and the launch/stop steps."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.dev import process

HOST = "127.0.0.1"
START_TIMEOUT = 120.0


class DevStackError(Exception):
    """A dev service could not be installed or did not come up."""


@dataclass(frozen=True)
class Ports:
    """The loopback ports of one dev stack (tests run a second stack on other ports)."""

    kafka: int = 9092
    kafka_controller: int = 9093
    amqp: int = 5672
    erlang_dist: int = 25672
    epmd: int = 4369


@dataclass(frozen=True)
class ServiceStatus:
    """What runs on one dev-stack address, and whether `distgate dev` manages it."""

    name: str
    address: str
    running: bool
    managed: bool
    pid: int | None
    detail: str


@dataclass(frozen=True)
class Daemon:
    """One long-running process of the stack: its directory, port and command-line marker."""

    name: str
    workdir: Path
    port: int
    marker: str

    @property
    def pid_file(self) -> Path:
        """The pid of the process group we started."""
        return self.workdir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        """Where the daemon's stdout and stderr go."""
        return self.workdir / f"{self.name}.log"

    @property
    def address(self) -> str:
        """host:port the daemon serves."""
        return f"{HOST}:{self.port}"


def inspect(daemon: Daemon) -> ServiceStatus:
    """Report whether the daemon's port answers and whether our pid file owns it."""
    pid = process.read_pid(daemon.pid_file, daemon.marker)
    listening = process.port_open(HOST, daemon.port)
    if pid is not None:
        state = "running" if listening else "process alive but port not answering"
        detail = f"{state}; started by distgate dev, log {daemon.log_file}"
        return ServiceStatus(daemon.name, daemon.address, listening, True, pid, detail)
    if listening:
        detail = "listening, not started by distgate dev (reused, never stopped by it)"
        return ServiceStatus(daemon.name, daemon.address, True, False, None, detail)
    return ServiceStatus(daemon.name, daemon.address, False, False, None, "stopped")


def owner(status: ServiceStatus) -> str:
    """Who runs a service, in words."""
    return f"started by distgate dev, pid {status.pid}" if status.managed else "not ours, reused"


def report_down(
    status: ServiceStatus, stopped: int | None, say: Callable[[str], None]
) -> ServiceStatus:
    """Tell the user what `down` did to a service; return its status afterwards."""
    if stopped is not None:
        say(f"{status.name}: stopped pid {stopped}")
    if status.running:
        say(f"{status.name}: {status.address} is still served, not by distgate dev; left alone")
    return status


def ensure_answers(
    status: ServiceStatus, ready: Callable[[], bool], protocol: str
) -> ServiceStatus:
    """Check that a service found running also answers its protocol; raise if it does not."""
    if process.wait_until(ready, START_TIMEOUT if status.managed else 15.0):
        return status
    raise DevStackError(
        f"{status.name}: {status.address} accepts connections but does not answer {protocol}"
        f" ({status.detail})"
    )


def launch(
    daemon: Daemon, argv: Sequence[str], env: Mapping[str, str], ready: Callable[[], bool]
) -> ServiceStatus:
    """Spawn the daemon and wait until its port and ready() answer; else stop it and raise."""
    daemon.workdir.mkdir(parents=True, exist_ok=True)
    process.rotate(daemon.log_file)
    pid = process.spawn(argv, daemon.log_file, daemon.pid_file, env)
    return wait_ready(daemon, pid, argv, ready)


def wait_ready(
    daemon: Daemon, pid: int, argv: Sequence[str], ready: Callable[[], bool]
) -> ServiceStatus:
    """Wait until the port is open and ready() holds; on failure stop pid and raise."""

    def serving() -> bool:
        return process.port_open(HOST, daemon.port) and ready()

    if process.wait_until(serving, START_TIMEOUT, pid):
        return inspect(daemon)
    why = "exited" if not process.is_alive(pid) else f"did not answer in {START_TIMEOUT:.0f} s"
    process.stop(daemon.pid_file, daemon.marker, grace=5.0)
    raise failure(f"{daemon.name} {why} on {daemon.address}", argv, daemon.log_file)


def require_free(name: str, port: int) -> None:
    """Raise if another process already holds a port the service needs besides its main one."""
    if process.port_open(HOST, port):
        raise DevStackError(f"{name} cannot start: port {HOST}:{port} is taken by another process")


def run(
    argv: Sequence[str], what: str, log_file: Path, env: Mapping[str, str] | None = None
) -> None:
    """Run a setup command to completion, its output in log_file; raise if it fails."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as out:
        try:
            code = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                timeout=900,
                check=False,
            ).returncode
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise failure(f"{what} failed ({exc})", argv, log_file) from exc
    if code != 0:
        raise failure(f"{what} failed (exit status {code})", argv, log_file)


def failure(what: str, argv: Sequence[str], log_file: Path) -> DevStackError:
    """Build a user-facing error: what failed, the command, and the log's last lines."""
    command = " ".join(argv)
    lines = process.tail(log_file) or "(no output)"
    return DevStackError(f"{what}\n  command: {command}\n  log: {log_file}\n{lines}")


def base_env(**overrides: str) -> dict[str, str]:
    """The environment for a child process: ours plus the given overrides."""
    return {**os.environ, **overrides}


def run_coroutine(coroutine: Coroutine[object, object, bool]) -> bool:
    """Run a probe coroutine to completion, also when the caller's thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    results: list[bool] = []
    worker = threading.Thread(target=lambda: results.append(asyncio.run(coroutine)))
    worker.start()
    worker.join()
    return bool(results and results[0])

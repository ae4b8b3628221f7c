"""Start real `distgate worker` processes (tests, demo, bench) and stop them the way users do."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from app.dev import process
from app.settings import Settings

READY_TIMEOUT = 120.0


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WorkerProcess:
    """One worker subprocess, its environment and its log."""

    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL of its HTTP API."""
        return f"http://127.0.0.1:{self.env['DISTGATE_HTTP_PORT']}"

    @property
    def settings(self) -> Settings:
        """Its settings, as it reads them from its environment (app id, topics, brokers)."""
        return Settings.from_env(self.env)

    @property
    def data_dir(self) -> Path:
        """Its DISTGATE_DATA_DIR."""
        return Path(self.env["DISTGATE_DATA_DIR"])

    def start(self) -> None:
        """Spawn `distgate worker` with this environment."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", *self.extra_args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    async def wait_ready(self, within: float = READY_TIMEOUT) -> None:
        """Poll /readyz until 200; fail with the log's tail when it dies or times out."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited early:\n{self.log_tail()}")
                try:
                    async with session.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.25)
        raise AssertionError(f"{self.name} not ready after {within}s:\n{self.log_tail()}")

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait; returns the exit code (kills after the timeout)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.name} ignored SIGTERM:\n{self.log_tail()}") from None

    def kill(self) -> None:
        """kill -9 the whole worker, its supervisor and every child, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            children = list(self.children().values())
            self.process.kill()
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait()

    def children(self) -> dict[str, int]:
        """The pid of each running child by name: `agents-0`, `agents-1`..., `api`."""
        if self.process is None or self.process.poll() is not None:
            return {}
        found = {}
        for pid in process.children(self.process.pid):
            name = _child_name(process.command_line(pid).split())
            if name is not None:
                found[name] = pid
        return found

    def kill_child(self, name: str) -> int:
        """kill -9 one child (the supervisor restarts it); its pid."""
        pid = self.children()[name]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wipe_state(self) -> None:
        """Delete the worker's local RocksDB state, as losing a disk would."""
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the worker's output."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _child_name(argv: list[str]) -> str | None:
    """`agents-<index>` or `api` from a child's command line (`worker --role ...`)."""
    if "--role" not in argv:
        return None
    role = argv[argv.index("--role") + 1]
    if role != "agents":
        return role
    return f"agents-{argv[argv.index('--index') + 1]}"


def worker_env(base: dict[str, str], data_dir: Path, app_id: str, **extra: str) -> dict[str, str]:
    """Environment for a worker on the dev stack with its own data dir and port."""
    env = {key: value for key, value in base.items() if not key.startswith("DISTGATE_")}
    env.update(
        DISTGATE_DATA_DIR=str(data_dir),
        DISTGATE_APP_ID=app_id,
        DISTGATE_HTTP_HOST="127.0.0.1",
        DISTGATE_HTTP_PORT=str(free_port()),
        DISTGATE_LOG_LEVEL="info",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def current_env() -> dict[str, str]:
    """This process's environment as a plain dict."""
    return dict(os.environ)

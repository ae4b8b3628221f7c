"""`distgate worker`: a small supervisor of N agents processes, the WMS bridge and the API.

It checks the settings and declares the topology (so a bad setting or a broker that is
down is one clear error and exit code 2), then runs each child as `distgate worker
--role ...` in its own process group, armed to get SIGTERM when the supervisor dies. A
child that exits unexpectedly is restarted after a back-off; one that fails
`MAX_FAILURES` times in a row, each time within `STABLE_AFTER` seconds of its start,
ends the worker with exit code 1. A child exiting with 2 has explained a configuration
error: the worker ends at once with 2. SIGTERM or SIGINT stops every child and exits 0.
"""

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

from app.api_process import api_tokens
from app.http_port import check_http_port
from app.logs import JsonFormatter
from app.settings import Settings
from app.topology import declare_topology
from tables.order.table import order_changelog
from tables.stock.table import stock_changelog

POLL = 0.2  # seconds between two looks at the children
FIRST_BACKOFF, MAX_BACKOFF = 0.5, 10.0  # seconds before a restart, doubling per failure
STABLE_AFTER = 30.0  # a child that ran this long has recovered: its failures are forgotten
MAX_FAILURES = 5
STOP_GRACE = 30.0  # seconds the children get to stop after SIGTERM
CONFIGURATION_ERROR = 2  # what `distgate` exits with after explaining a bad setup
PR_SET_PDEATHSIG = 1


log = logging.getLogger("distgate.supervisor")


def say(message: str) -> None:
    """One line on stderr, beside the children's logs."""
    log.warning(message)


def _log_to_stderr(settings: Settings) -> None:
    """The supervisor's own lines: `distgate worker: ...`, or JSON objects like the children's."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter("supervisor"))
    else:
        handler.setFormatter(logging.Formatter("distgate worker: %(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    # The clients' own complaints while the startup checks reach the brokers would go to
    # stderr through logging's last resort; the check's error already says what failed.
    logging.getLogger().addHandler(logging.NullHandler())


class Child:
    """One child process: how to start it, and its restarts."""

    def __init__(self, name: str, args: Callable[[bool], list[str]]) -> None:
        self.name = name
        self.args = args  # the CLI arguments after `worker`; True on the first start
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.failures = 0
        self.restart_at: float | None = None

    def start(self, first: bool, arm: Callable[[], None]) -> None:
        """Spawn it, in its own process group (a terminal's Ctrl-C reaches the supervisor only)."""
        argv = [sys.executable, "-m", "app", "worker", *self.args(first)]
        self.process = subprocess.Popen(argv, preexec_fn=arm, process_group=0)
        self.started_at, self.restart_at = time.monotonic(), None

    def exited(self) -> int | None:
        """Its exit code if it has exited since the last look."""
        if self.process is None or self.process.poll() is None:
            return None
        code, self.process = self.process.returncode, None
        return code

    def schedule_restart(self, now: float) -> None:
        """Count a failure (unless it had run long enough) and pick when to start it again."""
        self.failures = 1 if now - self.started_at >= STABLE_AFTER else self.failures + 1
        delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (self.failures - 1))
        self.restart_at = now + delay

    def send(self, signum: signal.Signals) -> None:
        """Send a signal if it runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)


def run_supervisor(settings: Settings) -> int:
    """Check, start the children, keep them running until told to stop; the exit code."""
    stopping = _on_stop_signals()
    _log_to_stderr(settings)
    check_startup(settings)
    if stopping:
        return 0
    children = [
        Child(f"agents-{index}", _armed_args(settings, "agents", "--index", str(index)))
        for index in range(settings.agent_processes)
    ]
    children.append(Child("bridge", _armed_args(settings, "bridge")))
    children.append(Child("api", lambda _first: ["--role", "api", *_shared_args(settings)]))
    arm = _die_with(os.getpid())
    for child in children:
        child.start(True, arm)
    code = _supervise(children, stopping, arm)
    stopped = _stop(children)
    return code or stopped


def check_startup(settings: Settings) -> None:
    """What would stop every child anyway, said once: tokens, port, data dir, brokers, topics."""
    api_tokens(settings)
    check_http_port(settings.http_host, settings.http_port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    topics = (
        *settings.topics.all(),
        stock_changelog(settings.app_id),
        order_changelog(settings.app_id),
    )
    asyncio.run(declare_topology(settings, topics))


def _shared_args(settings: Settings) -> list[str]:
    """Flags that give a child the supervisor's settings, whatever came from flags."""
    return [
        "--agents", str(settings.agent_processes), "--data-dir", str(settings.data_dir),
        "--http-host", settings.http_host, "--http-port", str(settings.http_port),
    ]  # fmt: skip


def _armed_args(settings: Settings, role: str, *extra: str) -> Callable[[bool], list[str]]:
    """Failpoints arm the first run only: a restart after a test's crash must not crash again."""

    def args(first: bool) -> list[str]:
        disarm = [] if first or not settings.failpoints else ["--no-failpoints"]
        return ["--role", role, *extra, *disarm, *_shared_args(settings)]

    return args


def _supervise(children: list[Child], stopping: list[bool], arm: Callable[[], None]) -> int:
    """Restart what dies until a stop signal (0) or a child that cannot be kept up (non-zero)."""
    while not stopping:
        time.sleep(POLL)
        now = time.monotonic()
        for child in children:
            code = child.exited()
            if code is not None and (verdict := after_exit(child, code, now)):
                return verdict
            if child.restart_at is not None and now >= child.restart_at:
                say(f"starting {child.name} again")
                child.start(False, arm)
    return 0


def after_exit(child: Child, code: int, now: float) -> int:
    """Schedule the restart of a child that exited; or the worker's exit code when it gives up."""
    if code == CONFIGURATION_ERROR:
        say(f"error: {child.name} refused its configuration (exit code 2, see above); stopping")
        return CONFIGURATION_ERROR
    child.schedule_restart(now)
    if child.failures >= MAX_FAILURES:
        say(
            f"error: {child.name} exited {child.failures} times in a row, each within "
            f"{STABLE_AFTER:.0f} s of its start (last exit code {code}); giving up"
        )
        return 1
    wait = child.restart_at - now if child.restart_at is not None else 0.0
    say(f"{child.name} exited with code {code}; restarting it in {wait:.1f} s")
    return 0


def _stop(children: list[Child]) -> int:
    """SIGTERM every child, wait; SIGKILL what is left after the grace. 0 when all stopped."""
    for child in children:
        child.send(signal.SIGTERM)
    deadline, code = time.monotonic() + STOP_GRACE, 0
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"error: {child.name} did not stop within {STOP_GRACE:.0f} s; killed")
            child.process.kill()
            child.process.wait()
            code = 1
    return code


def _on_stop_signals() -> list[bool]:
    """A flag that SIGTERM and SIGINT raise (a plain list: no lock is taken in the handler)."""
    stopping: list[bool] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        stopping.append(True)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stopping


def _die_with(parent: int) -> Callable[[], None]:
    """Run in each child before exec: SIGTERM when the parent dies; exit if it already has."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def arm() -> None:
        if prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0 or os.getppid() != parent:
            os._exit(1)

    return arm

"""The processes a bench run starts: workers, baseline servers, load generators; all stopped."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from app.dev.workers import WorkerProcess, current_env, worker_env

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CHILD_START_S = 30.0  # a supervisor starts its children within a second or two


@contextlib.contextmanager
def affinity(cpus: set[int] | None) -> Iterator[None]:
    """Run the block (a spawn) on `cpus`, so the child inherits that CPU set."""
    if not cpus:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass
class Processes:
    """Everything this run started, so that all of it is stopped even on failure."""

    workdir: Path
    brokers: dict[str, str]  # DISTGATE_KAFKA_URL and DISTGATE_AMQP_URL for the workers
    app_ids: list[str] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def new_app_id(self, purpose: str) -> str:
        """A fresh Faust app id (consumer group, changelog prefix) owned by this run."""
        app_id = f"distgate-bench-{purpose}-{uuid.uuid4().hex[:8]}"
        self.app_ids.append(app_id)
        return app_id

    def worker(
        self, name: str, app_id: str, cpus: set[int] | None, data_dir: Path | None = None
    ) -> WorkerProcess:
        """Start a `distgate worker` with its own data dir and port."""
        env = worker_env(current_env(), data_dir or self.workdir / name, app_id, **self.brokers)
        worker = WorkerProcess(name, env, self.workdir / f"{name}.log")
        with affinity(cpus):
            worker.start()
        self.workers.append(worker)
        return worker

    def module(
        self, module: str, args: Sequence[str], cpus: set[int] | None, log_name: str
    ) -> subprocess.Popen[bytes]:
        """Start `python -m <module> <args>`; its stdout is piped, stderr goes to a log."""
        with (self.workdir / log_name).open("ab") as log, affinity(cpus):
            child = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        self.children.append(child)
        return child

    async def figures(
        self, module: str, args: Sequence[str], cpus: set[int] | None, log_name: str, within: float
    ) -> Any:
        """Run `python -m <module> <args>` to its end; the JSON of its last output line."""
        child = self.module(module, args, cpus, log_name)
        out, _ = await asyncio.to_thread(child.communicate, timeout=within)
        if child.returncode != 0:
            raise RuntimeError(f"{module} failed with exit code {child.returncode}; see {log_name}")
        return msgspec.json.decode(out.splitlines()[-1])

    def stop_all(self) -> None:
        """SIGTERM every child and worker still running, then SIGKILL the stubborn ones."""
        for child in self.children:
            stop_child(child)
        for worker in self.workers:
            with contextlib.suppress(AssertionError):
                worker.terminate(timeout=20)
            worker.kill()


def stop_child(child: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop one child process by its own pid, and close its output pipe."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if child.stdout is not None:
        child.stdout.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_bytes(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found


async def counter_total(session: aiohttp.ClientSession, url: str, metric: str) -> float:
    """The sum over every label set of a Prometheus counter served at `url`/metrics."""
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    # Starts at 0.0: a worker that has no sample of the metric yet still answers a float.
    return sum(
        (
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(metric) and not line.startswith("#")
        ),
        0.0,
    )


def pid_of(worker: WorkerProcess, child: str) -> int:
    """The pid of one of the worker's processes (`agents-0`, `api`), once it has started."""
    if worker.process is None:
        raise RuntimeError(f"{worker.name} was never started")
    deadline = time.monotonic() + CHILD_START_S
    while (pid := worker.children().get(child)) is None:
        if time.monotonic() > deadline or worker.process.poll() is not None:
            raise RuntimeError(f"{worker.name} has no {child} process:\n{worker.log_tail(20)}")
        time.sleep(0.1)
    return pid


def pids_of(worker: WorkerProcess) -> dict[str, int]:
    """Every process of the worker by name: the supervisor and each child."""
    if worker.process is None:
        raise RuntimeError(f"{worker.name} was never started")
    return {"supervisor": worker.process.pid, **worker.children()}


def runqueue_wait_seconds(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU (other load's toll)."""
    waited = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            waited += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return waited / 1e9

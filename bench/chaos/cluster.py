"""What the faults act on: the run's workers, the brokers' settings, the WMSs, the clock."""

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.dev.workers import WorkerProcess
from app.settings import Settings
from bench.chaos.fleet import Fleet
from bench.chaos.poison_send import PoisonSent
from bench.common.procs import pids_of


@dataclass
class Cluster:
    """The running gateway and its surroundings, as the injectors see them."""

    settings: Settings  # the brokers and dev home of the run, the deployment's app id
    workers: list[WorkerProcess]
    fleet: Fleet
    started: float  # perf_counter at the load's second 0
    rng: random.Random
    say: Callable[[str], None]
    tag: str
    outage_s: float  # how long a wms-outage lasts
    poisoned: list[PoisonSent] = field(default_factory=list)

    def now(self) -> float:
        """Seconds since the load started: the report's time axis."""
        return time.perf_counter() - self.started

    def pick_worker(self) -> WorkerProcess:
        """A worker chosen at random (the seed decides which)."""
        return self.rng.choice(self.workers)

    async def restart(self, worker: WorkerProcess) -> None:
        """Start a stopped or crashed worker again, with its data dir and port."""
        worker.kill()
        worker.start()
        await worker.wait_ready()

    def signal_all(self, worker: WorkerProcess, signum: signal.Signals) -> None:
        """Send signum to every process of the worker: its supervisor and each child."""
        for pid in pids_of(worker).values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    async def stop(self, worker: WorkerProcess) -> None:
        """SIGTERM, as a scale-in does, and wait for the worker to leave."""
        await asyncio.to_thread(worker.terminate, 60.0)

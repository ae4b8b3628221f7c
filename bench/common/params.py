"""The bench's parameters (full and quick) and what every phase shares at run time."""

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common.procs import Processes


@dataclass(frozen=True)
class Params:
    """Sizes, durations and repetitions of one bench run."""

    skus: int = 20_000
    repetitions: int = 3
    connections: int = 32
    warmup_s: float = 1.0
    closed_s: float = 4.0
    open_s: float = 4.0
    inflow_rate: int = 1_000
    backlog: int = 30_000  # the worker drains ~500-1,500 events/s: 200,000 would take minutes
    drain_timeout_s: float = 240.0
    restore_skus: int = 333_334
    restore_event_ids: int = 0
    restore_timeout_s: float = 180.0
    warm_restart: bool = True
    noise_sample_s: float = 2.0
    hot_lines: int = 5_000
    hot_events: int = 1_000
    hot_timeout_s: float = 300.0


QUICK = Params(
    skus=500,
    repetitions=1,
    connections=16,
    warmup_s=0.5,
    closed_s=1.5,
    open_s=1.5,
    inflow_rate=200,
    backlog=2_000,
    drain_timeout_s=30.0,
    restore_skus=3_000,
    restore_timeout_s=30.0,
    warm_restart=False,
    noise_sample_s=0.5,
    hot_events=400,
)


def split_cpus(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, load-generator CPUs): the first CPU for the server, the rest for load."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None, None
    return {cpus[0]}, set(cpus[1:])


@dataclass
class Context:
    """What the phases share: the brokers, the processes started, CPU placement, output."""

    bootstrap: str
    partitions: int
    procs: Processes
    server_cpus: set[int] | None
    load_cpus: set[int] | None
    say: Callable[[str], None]
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

"""CPU per order of each of the worker's processes, from /proc over the measured window."""

import os
from collections.abc import Mapping

from bench.common.procs import cpu_seconds

Snapshot = dict[str, float]


def snapshot(pids: Mapping[str, int]) -> Snapshot:
    """User + system CPU seconds so far of each process, and of this bench process (`bench`)."""
    return {name: cpu_seconds(pid) for name, pid in {**pids, "bench": os.getpid()}.items()}


def per_order(before: Snapshot, after: Snapshot, orders: int) -> dict[str, float]:
    """Microseconds of CPU each process spent per order decided between the two snapshots."""
    return {name: round(1e6 * (after[name] - before[name]) / orders, 1) for name in before}

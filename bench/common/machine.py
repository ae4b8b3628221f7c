"""What else the machine is doing: busy CPUs and the busiest processes over a short sample."""

import asyncio
import os
import platform
from pathlib import Path
from typing import Any

from bench.common.procs import CLOCK_TICKS


def _busy_and_total() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _process_ticks() -> dict[int, tuple[str, int]]:
    """CPU jiffies used so far by every process: pid -> (command name, ticks)."""
    ticks: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw.rpartition(")")[2].split()
        ticks[int(entry.name)] = (name, int(fields[11]) + int(fields[12]))
    return ticks


async def background_load(seconds: float = 2.0) -> dict[str, Any]:
    """Busy CPUs (in cores) and the three busiest processes while the bench itself idles."""
    busy0, total0 = _busy_and_total()
    procs0 = _process_ticks()
    await asyncio.sleep(seconds)
    busy1, total1 = _busy_and_total()
    procs1 = _process_ticks()
    cpus = os.cpu_count() or 1
    used = {
        f"{name} ({pid})": (ticks - procs0[pid][1]) / CLOCK_TICKS / seconds
        for pid, (name, ticks) in procs1.items()
        if pid in procs0
    }
    busiest = sorted(used.items(), key=lambda item: -item[1])[:3]
    return {
        "busy_cores": cpus * (busy1 - busy0) / max(1, total1 - total0),
        "busiest": {name: round(share, 2) for name, share in busiest},
        "loadavg": _loadavg(),
    }


def _loadavg() -> list[str]:
    """The 1, 5 and 15 minute load averages."""
    return Path("/proc/loadavg").read_text().split()[:3]


def describe() -> dict[str, Any]:
    """The machine the figures come from."""
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }

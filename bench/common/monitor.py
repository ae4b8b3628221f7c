"""Each worker's CPU and RSS, sampled once a second while the load runs."""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common.procs import cpu_seconds, memory_bytes

MIB = 2**20


@dataclass
class Monitor:
    """Samples `pids` (name -> pid) every second from `started` until stopped."""

    pids: dict[str, int]
    started: float
    cpu_percent: dict[str, list[float | None]] = field(default_factory=dict)
    rss_mib: dict[str, list[float | None]] = field(default_factory=dict)

    async def run(self, seconds: int) -> None:
        """One sample per whole second of the run (None once a worker is gone)."""
        last = {name: self._cpu(pid) for name, pid in self.pids.items()}
        for name in self.pids:
            self.cpu_percent[name], self.rss_mib[name] = [], []
        for second in range(1, seconds + 1):
            await asyncio.sleep(max(0.0, self.started + second - time.perf_counter()))
            for name, pid in self.pids.items():
                now, before = self._cpu(pid), last[name]
                used = None if now is None or before is None else 100.0 * (now - before)
                self.cpu_percent[name].append(used)
                self.rss_mib[name].append(self._rss(pid))
                last[name] = now

    def summary(self) -> list[dict[str, Any]]:
        """Per worker: mean and max CPU % and the largest RSS seen."""
        return [
            {
                "name": name,
                "cpu_percent_mean": _mean(self.cpu_percent.get(name, [])),
                "cpu_percent_max": _max(self.cpu_percent.get(name, [])),
                "rss_mib_max": _max(self.rss_mib.get(name, [])),
            }
            for name in self.pids
        ]

    def timeline(self) -> dict[str, dict[str, list[float | None]]]:
        """Per worker, the samples as the report's timeline has them."""
        return {
            name: {"cpu_percent": self.cpu_percent.get(name, []), "rss_mib": self.rss_mib[name]}
            for name in self.pids
            if name in self.rss_mib
        }

    @staticmethod
    def _cpu(pid: int) -> float | None:
        try:
            return cpu_seconds(pid)
        except OSError:
            return None

    @staticmethod
    def _rss(pid: int) -> float | None:
        try:
            return memory_bytes(pid)["VmRSS"] / MIB
        except (OSError, KeyError):
            return None


def _mean(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


def _max(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None

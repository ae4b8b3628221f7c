"""The API process's view of the agents processes: their readiness and counters, as one worker."""

import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from prometheus_client.metrics_core import Metric

from app.agents_status import (
    STALE_AFTER,
    AgentsStatus,
    bridge_status_path,
    read_status,
    status_path,
)
from app.readiness import Progress

PENDING_COMMANDS = "distgate_pending_commands"

Report = tuple[str, AgentsStatus | str]  # a process's name, and its status or why there is none


class AgentsView:
    """Reads the agents' and the bridge's status files on demand; a Prometheus collector too."""

    def __init__(self, data_dir: Path, count: int, clock: Callable[[], float] = time.time) -> None:
        agents = [status_path(data_dir, index) for index in range(count)]
        self.paths = [*agents, bridge_status_path(data_dir)]
        self.clock = clock

    def reports(self) -> list[Report]:
        """Each process's trusted status, or the reason it is not trusted."""
        now = self.clock()
        return [(path.parent.name, _trusted(read_status(path), now)) for path in self.paths]

    def progress(self) -> list[Progress]:
        """Readiness source: the agents' tables as one worker's, plus any silent process."""
        return merge_progress(self.reports())

    def pending_commands(self) -> dict[str, int]:
        """Commands parked per warehouse, as the agents processes count them."""
        return pending_commands(
            status for _, status in self.reports() if not isinstance(status, str)
        )

    def collect(self) -> Iterable[Metric]:
        """Prometheus: the agents' instruments, summed over the processes."""
        return merge_metrics(_statuses(self.reports()))


def _statuses(reports: Iterable[Report]) -> Iterator[AgentsStatus]:
    return (status for _, status in reports if not isinstance(status, str))


def _trusted(status: AgentsStatus | None, now: float) -> AgentsStatus | str:
    if status is None:
        return "starting"
    if not _alive(status.pid):
        return f"process {status.pid} is gone"
    if now - status.at > STALE_AFTER:
        return f"no report for {now - status.at:.1f} s"
    return status


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def merge_progress(reports: Sequence[Report]) -> list[Progress]:
    """One entry per table over every process (partitions are disjoint); one per silent process."""
    by_name: dict[str, list[tuple[str, Progress]]] = defaultdict(list)
    silent = []
    for process, status in reports:
        if isinstance(status, str):
            silent.append(Progress(process, ready=False, detail=status))
            continue
        for progress in status.progress:
            by_name[progress.name].append((process, progress))
    return [_merged(name, parts) for name, parts in sorted(by_name.items())] + silent


def _merged(name: str, parts: Sequence[tuple[str, Progress]]) -> Progress:
    details = {progress.detail for _, progress in parts}
    detail = details.pop() if len(details) == 1 else "; ".join(f"{p}: {g.detail}" for p, g in parts)
    return Progress(
        name,
        ready=all(progress.ready for _, progress in parts),
        remaining=sum(progress.remaining for _, progress in parts),
        partitions=dict(sorted((k, v) for _, g in parts for k, v in g.partitions.items())),
        detail=detail,
    )


def merge_metrics(statuses: Iterable[AgentsStatus]) -> Iterator[Metric]:
    """Sum each sample (same name and labels) over the processes."""
    families: dict[str, Metric] = {}
    sums: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for status in statuses:
        for family in status.metrics:
            if family.name not in families:
                families[family.name] = Metric(family.name, family.documentation, family.type)
                sums[family.name] = defaultdict(float)
            for sample in family.samples:
                sums[family.name][(sample.name, tuple(sorted(sample.labels.items())))] += (
                    sample.value
                )
    for name, metric in families.items():
        for (sample_name, labels), value in sums[name].items():
            metric.add_sample(sample_name, dict(labels), value)
        yield metric


def pending_commands(statuses: Iterable[AgentsStatus]) -> dict[str, int]:
    """The `distgate_pending_commands` gauge summed per warehouse over the processes."""
    counts: dict[str, int] = defaultdict(int)
    for status in statuses:
        for family in status.metrics:
            if family.name != PENDING_COMMANDS:
                continue
            for sample in family.samples:
                counts[sample.labels.get("warehouse", "")] += int(sample.value)
    return dict(counts)

"""The API process's view of the agents processes: one worker's readiness and counters."""

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.metrics_core import Metric

from app.agents_status import (
    STALE_AFTER,
    AgentsStatus,
    read_status,
    snapshot,
    status_path,
    write_status,
)
from app.agents_view import AgentsView, merge_metrics, merge_progress, pending_commands
from app.readiness import Progress, Readiness

NOW = 1_000_000.0
NO_SUCH_PID = 2**22 + 1


def report(data_dir: Path, index: int, written: AgentsStatus) -> None:
    """Write agents process `index`'s status file."""
    status_path(data_dir, index).parent.mkdir(parents=True)
    write_status(status_path(data_dir, index), written)


def status(*progress: Progress, applied: float = 0.0, pid: int | None = None) -> AgentsStatus:
    """A report of this (live) process, written now, with one counter."""
    registry = CollectorRegistry()
    counter = Counter("distgate_events_applied", "applied", ["table"], registry=registry)
    counter.labels("stock").inc(applied)
    return AgentsStatus(
        pid=os.getpid() if pid is None else pid,
        at=NOW,
        progress=list(progress),
        assigned=[],
        metrics=snapshot(registry),
    )


def test_tables_of_several_processes_read_as_one_worker() -> None:
    # Given two processes, each restoring or consuming its own partitions of the stock table
    first = status(Progress("stock", True, 0, {"c/0": 0}, "consuming"))
    second = status(Progress("stock", False, 7, {"c/1": 7}, "restoring"))
    # When merged
    (stock,) = merge_progress([("agents-0", first), ("agents-1", second)])
    # Then the table is ready only when both are, with every partition and the sum left
    assert not stock.ready
    assert stock.remaining == 7
    assert stock.partitions == {"c/0": 0, "c/1": 7}
    assert stock.detail == "agents-0: consuming; agents-1: restoring"


def test_a_silent_process_makes_the_worker_not_ready() -> None:
    # Given one process reporting ready and one that never reported
    ready = status(Progress("stock", True, detail="consuming"))
    # When merged, Then the silent one is named, not ready
    merged = merge_progress([("agents-0", ready), ("agents-1", "starting")])
    assert merged == [
        Progress("stock", True, detail="consuming"),
        Progress("agents-1", False, detail="starting"),
    ]


def test_counters_are_summed_over_the_processes() -> None:
    # Given two processes that applied 3 and 4 stock events
    registry = CollectorRegistry()
    registry.register(_Collected(merge_metrics([status(applied=3), status(applied=4)])))
    # When exposed, Then one family counts 7, without creation times
    text = generate_latest(registry).decode()
    assert 'distgate_events_applied_total{table="stock"} 7.0' in text
    assert text.count("# TYPE distgate_events_applied_total counter") == 1
    assert "_created" not in text


def test_a_report_is_trusted_only_while_fresh_and_its_process_lives(tmp_path: Path) -> None:
    # Given a fresh report, one from a pid that cannot exist (above Linux's limit), none
    report(tmp_path, 0, status(Progress("stock", True)))
    report(tmp_path, 1, status(Progress("stock", True), pid=NO_SUCH_PID))
    # When read a moment later
    reports = dict(AgentsView(tmp_path, 3, clock=lambda: NOW + STALE_AFTER / 2).reports())
    # Then only the fresh one is trusted
    assert isinstance(reports["agents-0"], AgentsStatus)
    assert reports["agents-1"] == f"process {NO_SUCH_PID} is gone"
    assert reports["agents-2"] == "starting"
    # And a report that stopped coming is not trusted either
    late = dict(AgentsView(tmp_path, 1, clock=lambda: NOW + STALE_AFTER + 1).reports())
    assert late["agents-0"] == f"no report for {STALE_AFTER + 1:.1f} s"


def test_a_status_file_is_replaced_whole(tmp_path: Path) -> None:
    # Given a written report, When another replaces it, Then a reader sees the new one whole
    path = tmp_path / "status.json"
    write_status(path, status(applied=1))
    write_status(path, status(applied=2))
    assert read_status(path) == status(applied=2)
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]
    # And a missing or torn file reads as no report
    path.write_bytes(b'{"pid": 1')
    assert read_status(path) is None
    assert read_status(tmp_path / "none.json") is None


class _Collected:
    """A collector that yields what it was given."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self.metrics = list(metrics)

    def collect(self) -> list[Metric]:
        return self.metrics


def test_waiting_commands_are_counted_per_warehouse_and_never_make_it_unready() -> None:
    # Given two agents processes, one counting commands parked for two warehouses
    registry = CollectorRegistry()
    pending = Gauge("distgate_pending_commands", "parked", ["warehouse"], registry=registry)
    pending.labels("DC-X").set(3)
    pending.labels("DC-Y").set(0)
    parking = AgentsStatus(os.getpid(), NOW, [], [], snapshot(registry))
    # When the API process reads their reports
    counts = pending_commands([parking, status()])
    readiness = Readiness()
    readiness.add_source(lambda: [Progress("stock", ready=True)])
    readiness.add_waiting(lambda: counts)
    readiness.mark_started()
    # Then each warehouse's count shows, only those where something waits are listed
    assert counts == {"DC-X": 3, "DC-Y": 0}
    assert readiness.waiting() == {"DC-X": 3}
    # And the worker is still ready
    assert all(progress.ready for progress in readiness.report())

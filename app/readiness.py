"""Readiness: is every piece of state this process serves restored and consuming?"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """How far one table (or replica) is from serving: remaining records and partitions."""

    name: str
    ready: bool
    remaining: int = 0
    partitions: dict[str, int] = field(default_factory=dict)
    detail: str = ""


ProgressSource = Callable[[], Sequence[Progress]]


class Readiness:
    """Collects progress from every registered source; ready only when all are."""

    def __init__(self) -> None:
        self._sources: list[ProgressSource] = []
        self._started = False

    def add_source(self, source: ProgressSource) -> None:
        """Register a callable reporting progress for one or more tables."""
        self._sources.append(source)

    def mark_started(self) -> None:
        """Called once the worker's services are all up."""
        self._started = True

    @property
    def started(self) -> bool:
        """True once the process's services are all up."""
        return self._started

    @property
    def ready(self) -> bool:
        """Every source reports ready (and there is at least one report)."""
        report = self.report()
        return bool(report) and all(progress.ready for progress in report)

    def report(self) -> list[Progress]:
        """Current progress of every source."""
        if not self._started:
            return [Progress("worker", ready=False, detail="starting")]
        return [progress for source in self._sources for progress in source()]

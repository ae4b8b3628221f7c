"""When each fault is injected: one every `every` seconds, in the order given, after a warm-up.

Faults never overlap (as in Kafka's own system tests, one disturbance at a time, each
followed by a check that the cluster recovered): a fault whose predecessor has not
recovered yet waits for it, and the report keeps the time it actually began.
"""

from dataclasses import dataclass, field
from typing import Any

WARMUP_S = 10.0  # steady load before the first fault, the "steady" latency to compare with
TAIL_S = 20.0  # load after the last fault's recovery window, so recovery happens under load


@dataclass
class Fault:
    """One fault: planned and actual start, what it hit, when the gateway had recovered."""

    kind: str
    planned_s: float
    at_s: float | None = None
    target: str = ""
    ended_s: float | None = None  # the fault lifted (restarted, resumed, back online)
    recovered_s: float | None = None  # from at_s until ready and drained; None: never
    notes: dict[str, Any] = field(default_factory=dict)

    def as_report(self) -> dict[str, Any]:
        """The fault as report.json's chaos.faults lists it."""
        return {
            "kind": self.kind,
            "at_s": _rounded(self.at_s),
            "target": self.target,
            "ended_s": _rounded(self.ended_s),
            "recovered_s": _rounded(self.recovered_s),
            **self.notes,
        }


def plan(kinds: tuple[str, ...], every: float) -> list[Fault]:
    """The faults in order, the first after the warm-up."""
    return [Fault(kind, WARMUP_S + n * every) for n, kind in enumerate(kinds)]


def needed_duration(kinds: tuple[str, ...], every: float) -> float:
    """Seconds of load the schedule needs: the warm-up, a slot per fault and a tail."""
    return WARMUP_S + len(kinds) * every + TAIL_S


def describe(faults: list[Fault]) -> list[str]:
    """The schedule as the bench prints it before the load starts."""
    return [f"chaos: {fault.kind:<16} at {fault.planned_s:>5.0f} s" for fault in faults]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)

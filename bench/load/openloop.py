"""An open-loop pacer: fire requests at a planned rate whatever the answers, with a burst.

The rate follows the workload's peak shape: a steady baseline, and for a window in the
middle of the run a burst of `factor` times it (checkout writes burst to about 5x at a
Black Friday peak). Requests beyond `max_in_flight` are counted as dropped, not queued;
requests sent more than `late_s` after their scheduled time are counted as late: both say
the load generator, not the server, set the pace.
"""

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

Fire = Callable[[float, int], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Shape:
    """Rate over the run: `base` per second, times `factor` from `burst_from` to `burst_to` s."""

    base: float
    factor: float = 1.0
    burst_from: float = 0.0
    burst_to: float = 0.0

    def rate_at(self, elapsed: float) -> float:
        """The planned rate `elapsed` seconds into the run."""
        if self.burst_from <= elapsed < self.burst_to:
            return self.base * self.factor
        return self.base


@dataclass
class Pacing:
    """How well one path kept its schedule: requests sent, late beyond `late_s`, dropped."""

    late_s: float
    sent: int = 0
    late: int = 0
    dropped: int = 0
    worst_lag_s: float = 0.0

    def fired(self, lag: float) -> None:
        """A request went out `lag` seconds after its scheduled time."""
        self.sent += 1
        self.worst_lag_s = max(self.worst_lag_s, lag)
        if lag > self.late_s:
            self.late += 1

    def figures(self) -> dict[str, float]:
        """The tally as the report has it."""
        return {
            "sent": self.sent,
            "late": self.late,
            "dropped": self.dropped,
            "worst_lag_ms": 1000.0 * self.worst_lag_s,
        }


async def pace(
    shape: Shape,
    started: float,
    seconds: float,
    fire: Fire,
    late_s: float,
    max_in_flight: int = 2000,
) -> Pacing:
    """Call `fire(scheduled, number)` on schedule until `seconds` passed; how it went."""
    pacing = Pacing(late_s)
    if shape.base <= 0:
        return pacing
    in_flight: set[asyncio.Task[None]] = set()
    number, scheduled = 0, started
    while scheduled < started + seconds:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= max_in_flight:
            pacing.dropped += 1
        else:
            pacing.fired(time.perf_counter() - scheduled)
            task = asyncio.create_task(fire(scheduled, number))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        number += 1
        scheduled += 1.0 / shape.rate_at(scheduled - started)
    if in_flight:
        await asyncio.wait(in_flight)
    return pacing

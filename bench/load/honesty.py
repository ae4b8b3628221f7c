"""Whether the load generator itself was the limit of an open-loop run, and why.

An open-loop client that cannot keep its schedule measures itself: requests it dropped
(too many in flight), requests it sent late, and its own process pinned at a full core
all say the server may have had more to give, or answered faster than shown.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from bench.load.openloop import Pacing

LATE_SHARE = 0.01  # more than 1 % of requests late: the schedule was not kept
FULL_CORE_PERCENT = 95.0  # a second at this CPU share: the process was pinned
WAITED_SHARE = 0.1  # runnable but without a CPU a tenth of the time: the machine was busy


def loadgen_figures(
    pacings: Mapping[str, Pacing], cpu_percent: Sequence[float | None], cpu_wait_share: float
) -> dict[str, Any]:
    """Totals over the paths, the bench process's CPU, and `limited` with the reasons.

    `cpu_wait_share`: the part of the run the bench process was runnable but waited for a
    CPU; high, it says the machine's other load, not the bench's own work, held it back.
    """
    sent = sum(p.sent for p in pacings.values())
    late = sum(p.late for p in pacings.values())
    dropped = sum(p.dropped for p in pacings.values())
    samples = [c for c in cpu_percent if c is not None]
    full = sum(1 for c in samples if c >= FULL_CORE_PERCENT)
    late_ms = 1000.0 * max((p.late_s for p in pacings.values()), default=0.0)
    why = []
    if dropped:
        why.append(f"{dropped:,} requests dropped: too many in flight")
    if late > LATE_SHARE * max(1, sent):
        why.append(f"{late:,} of {sent:,} requests sent more than {late_ms:g} ms late")
    if full:
        why.append(f"the bench process was at ~100 % of a core for {full} s")
    if why and cpu_wait_share >= WAITED_SHARE:
        why.append(f"it waited for a CPU {100 * cpu_wait_share:.0f} % of the time: a busy machine")
    return {
        "sent": sent,
        "late": late,
        "late_threshold_ms": late_ms,
        "dropped": dropped,
        "cpu_percent": sum(samples) / len(samples) if samples else None,
        "cpu_percent_max": max(samples, default=None),
        "cpu_full_seconds": full,
        "cpu_wait_percent": 100 * cpu_wait_share,
        "limited": bool(why),
        "why": why,
        "paths": {name: pacing.figures() for name, pacing in pacings.items()},
    }

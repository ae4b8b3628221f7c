"""Failpoints: named places in the code where a crash test makes the process die.

A testing aid, off unless `DISTGATE_FAILPOINTS` is set. `bridge.after_kafka_ack=exit@25`
makes the 25th pass through the point named `bridge.after_kafka_ack` call
`os._exit(137)`: no flush, no ack, no close, as `kill -9` would leave things. Several
points are separated by commas. Unset, a pass through a point costs one truth test.

Points: `bridge.before_kafka_send` (a delivery taken from RabbitMQ, nothing sent to
Kafka yet) and `bridge.after_kafka_ack` (Kafka acknowledged, RabbitMQ not yet acked).
"""

import os
import re

EXIT_CODE = 137  # what a shell reports for a process killed by SIGKILL
_ENTRY = re.compile(r"([a-z][a-z0-9_.]*)=exit@([1-9][0-9]{0,8})")


def parse_failpoints(spec: str) -> dict[str, int]:
    """`name=exit@N,...` -> {name: N}; raise ValueError on anything else."""
    points: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        match = _ENTRY.fullmatch(entry)
        if match is None:
            raise ValueError(f"DISTGATE_FAILPOINTS entry {entry!r} is not name=exit@N")
        points[match[1]] = int(match[2])
    return points


class Failpoints:
    """Counts passes through armed points and exits the process at the chosen one."""

    def __init__(self, spec: str = "") -> None:
        self._remaining = parse_failpoints(spec)

    def hit(self, name: str) -> None:
        """Pass through point `name`: exit now if this is the pass it is armed for."""
        if not self._remaining or name not in self._remaining:
            return
        self._remaining[name] -= 1
        if self._remaining[name] == 0:
            os.write(2, f"failpoint {name}: exiting with {EXIT_CODE}\n".encode())
            os._exit(EXIT_CODE)

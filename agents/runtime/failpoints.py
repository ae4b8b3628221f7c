"""Failpoints: named places in the code where a crash test makes the process die or freeze.

A testing aid, off unless `DISTGATE_FAILPOINTS` is set. `bridge.after_kafka_ack=exit@25`
makes the 25th pass through the point named `bridge.after_kafka_ack` call
`os._exit(137)`: no flush, no ack, no close, as `kill -9` would leave things.
`batch.before_send=stop@1` makes the first pass SIGSTOP the process itself, frozen
where it stands until someone sends it SIGCONT, as a stalled VM or a debugger would
leave it. Several points are separated by commas. Unset, a pass through a point costs
one truth test.

Points: `bridge.before_kafka_send` (a delivery taken from RabbitMQ, nothing sent to
Kafka yet), `bridge.after_kafka_ack` (Kafka acknowledged, RabbitMQ not yet acked) and
`batch.before_send` (a table's batch applied, its changelog records not yet sent).
"""

import os
import re
import signal

EXIT_CODE = 137  # what a shell reports for a process killed by SIGKILL
_ENTRY = re.compile(r"([a-z][a-z0-9_.]*)=(exit|stop)@([1-9][0-9]{0,8})")


def parse_failpoints(spec: str) -> dict[str, tuple[str, int]]:
    """`name=exit@N,name=stop@N...` -> {name: (action, N)}; raise ValueError on anything else."""
    points: dict[str, tuple[str, int]] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        match = _ENTRY.fullmatch(entry)
        if match is None:
            raise ValueError(
                f"DISTGATE_FAILPOINTS entry {entry!r} is not name=exit@N or name=stop@N"
            )
        points[match[1]] = (match[2], int(match[3]))
    return points


class Failpoints:
    """Counts passes through armed points; at the chosen one, exits or freezes the process."""

    def __init__(self, spec: str = "") -> None:
        self._remaining = parse_failpoints(spec)

    def hit(self, name: str) -> None:
        """Pass through point `name`: act now if this is the pass it is armed for."""
        if not self._remaining or name not in self._remaining:
            return
        action, remaining = self._remaining[name]
        if remaining > 1:
            self._remaining[name] = (action, remaining - 1)
            return
        del self._remaining[name]  # armed for one pass: the later ones go through
        if action == "stop":
            os.write(2, f"failpoint {name}: stopping until SIGCONT\n".encode())
            os.kill(os.getpid(), signal.SIGSTOP)
            return
        os.write(2, f"failpoint {name}: exiting with {EXIT_CODE}\n".encode())
        os._exit(EXIT_CODE)

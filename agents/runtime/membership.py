"""Whether this worker may still own its partitions: the consumer group's last word on it.

Kafka fences nothing here (no transactions): a worker frozen past its session timeout
(SIGSTOP, a stalled VM, a starved CPU) is dropped from the group and its partitions
given to another worker, but when it wakes the batch in its hands would still reach the
changelog, after the new owner's records, and overwrite newer values with older ones.
So before a batch's records are sent, the worker asks when the group last confirmed it
(a heartbeat answered, an assignment received). Longer ago than the session timeout,
its partitions may be someone else's: it stops at once, sending nothing, and its
supervisor starts it again from what Kafka acknowledged, as after a crash.
"""

import logging
import os
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

LAPSED_EXIT_CODE = 75  # EX_TEMPFAIL: try again (the supervisor restarts the process)


class Membership:
    """The time the group last confirmed this member, and whether that is too long ago."""

    def __init__(
        self, session_timeout_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._session_timeout_s = session_timeout_s
        self._clock = clock
        self._confirmed_at: float | None = None  # None: not a member yet, nothing to send

    def confirmed(self) -> None:
        """The group answered a heartbeat or handed out partitions: this member counts."""
        self._confirmed_at = self._clock()

    def lapsed(self) -> bool:
        """Whether the session may have expired since the group last confirmed this member."""
        if self._confirmed_at is None:
            return False
        return self._clock() - self._confirmed_at > self._session_timeout_s

    def stop_if_lapsed(self) -> None:
        """Exit now, sending nothing, if the group may have given the partitions away."""
        if self.lapsed():
            log.error(
                "no word from the consumer group for longer than the session timeout "
                "(%.0f s): its partitions may be another worker's; stopping without "
                "sending the batch in hand",
                self._session_timeout_s,
            )
            logging.shutdown()
            os._exit(LAPSED_EXIT_CODE)


def watch_heartbeats(coordinator: Any, membership: Membership) -> None:
    """Confirm `membership` on every heartbeat aiokafka's group coordinator gets answered.

    The heartbeats run in the consumer's thread; the confirmation is one float written.
    """
    if getattr(coordinator, "_distgate_watched", False):
        return
    send = coordinator._do_heartbeat

    async def heartbeat() -> bool:
        answered = bool(await send())
        if answered:
            membership.confirmed()
        return answered

    coordinator._do_heartbeat = heartbeat
    coordinator._distgate_watched = True

"""A worker's membership: lapsed once the group was silent longer than the session timeout."""

import subprocess
import sys

from agents.runtime.membership import LAPSED_EXIT_CODE, Membership, watch_heartbeats


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_member_confirmed_within_the_session_timeout_has_not_lapsed() -> None:
    clock = Clock()
    membership = Membership(10.0, clock)
    # Given no assignment yet, Then there is nothing to lapse from
    assert not membership.lapsed()
    # Given a member confirmed 10 s ago, Then it still counts
    membership.confirmed()
    clock.now += 10.0
    assert not membership.lapsed()
    # When the group stays silent a moment longer, Then it may have been dropped
    clock.now += 0.1
    assert membership.lapsed()
    # And a heartbeat answered makes it a member again
    membership.confirmed()
    assert not membership.lapsed()


async def test_only_answered_heartbeats_confirm_the_member() -> None:
    # Given aiokafka's group coordinator, whose heartbeats are answered, then refused
    clock = Clock()
    membership = Membership(10.0, clock)

    class Coordinator:
        def __init__(self) -> None:
            self.answers = [True, False]

        async def _do_heartbeat(self) -> bool:
            return self.answers.pop(0)

    coordinator = Coordinator()
    watch_heartbeats(coordinator, membership)
    watch_heartbeats(coordinator, membership)  # a second assignment wraps nothing twice
    # When one heartbeat is answered and, 11 s later, one is refused
    assert await coordinator._do_heartbeat() is True
    clock.now += 11.0
    assert await coordinator._do_heartbeat() is False
    # Then the member has lapsed: the answered one is 11 s old
    assert membership.lapsed()


def test_a_lapsed_member_stops_before_sending_anything() -> None:
    # Given a process whose membership lapsed, When it is about to send a batch
    code = (
        "from agents.runtime.membership import Membership\n"
        "now = [0.0]\n"
        "m = Membership(10.0, lambda: now[0])\n"
        "m.confirmed(); m.stop_if_lapsed(); print('sent', flush=True)\n"
        "now[0] = 30.0; m.stop_if_lapsed(); print('sent late', flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    # Then it exits at once, for its supervisor to start it again, and says why
    assert result.returncode == LAPSED_EXIT_CODE
    assert result.stdout.split("\n")[0] == "sent"
    assert "sent late" not in result.stdout

"""The supervisor's restart policy: back-off, forgiveness after a good run, and when to give up."""

import pytest

from app.dev.stack import DEFAULT_PORTS, Ports, ports_for
from app.errors import ConfigurationError
from app.settings import Settings
from app.supervisor import FIRST_BACKOFF, MAX_BACKOFF, MAX_FAILURES, STABLE_AFTER, Child, after_exit


def child_started_at(at: float) -> Child:
    """A child as if started at `at` (monotonic seconds)."""
    child = Child("agents-0", lambda _first: [])
    child.started_at = at
    return child


def test_quick_failures_back_off_doubling_up_to_a_cap() -> None:
    # Given a child that fails within a second of each start
    child, delays = child_started_at(0.0), []
    for now in range(1, 8):
        child.started_at = now - 1.0
        # When it exits
        child.schedule_restart(now)
        assert child.restart_at is not None
        delays.append(child.restart_at - now)
    # Then each restart waits twice as long as the one before, never more than the cap
    assert delays == [min(MAX_BACKOFF, FIRST_BACKOFF * 2**n) for n in range(7)]


def test_a_child_that_ran_long_enough_is_forgiven() -> None:
    # Given a child that failed three times quickly, then ran for a long while
    child = child_started_at(0.0)
    for _ in range(3):
        child.schedule_restart(1.0)
    child.started_at = 100.0
    # When it exits, Then it counts as its first failure
    child.schedule_restart(100.0 + STABLE_AFTER)
    assert child.failures == 1
    assert child.restart_at == 100.0 + STABLE_AFTER + FIRST_BACKOFF


def test_the_supervisor_gives_up_after_too_many_quick_failures() -> None:
    # Given a child that keeps exiting at once
    child = child_started_at(0.0)
    verdicts = [after_exit(child, 1, 0.1) for _ in range(MAX_FAILURES)]
    # Then it is restarted until the limit, and the worker then ends with 1
    assert verdicts == [0] * (MAX_FAILURES - 1) + [1]


def test_a_configuration_error_ends_the_worker_at_once() -> None:
    # Given a child that explained a bad setup (exit code 2), Then the worker ends with 2
    assert after_exit(child_started_at(0.0), 2, 0.1) == 2


def test_agent_processes_come_from_the_environment() -> None:
    assert Settings.from_env({}).agent_processes == 1
    assert Settings.from_env({"DISTGATE_AGENT_PROCESSES": "3"}).agent_processes == 3
    with pytest.raises(ConfigurationError, match="DISTGATE_AGENT_PROCESSES"):
        Settings.from_env({"DISTGATE_AGENT_PROCESSES": "0"})


def test_the_dev_stack_follows_the_broker_urls() -> None:
    # The default URLs mean the default stack; others move the stack to their ports
    defaults = Settings.from_env({})
    assert ports_for(defaults.kafka_bootstrap, defaults.amqp_url) == DEFAULT_PORTS
    assert ports_for("127.0.0.1:39092", "amqp://guest:guest@127.0.0.1:35672/") == Ports(
        39092, 39093, 35672, 35673, 35674
    )

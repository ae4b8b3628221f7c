"""Failpoints: parsed from settings, silent until armed, and the armed pass exits like kill -9."""

import os
import signal
import subprocess
import sys

import pytest

from agents.runtime.failpoints import EXIT_CODE, Failpoints, parse_failpoints
from app.errors import ConfigurationError
from app.settings import Settings


def test_a_spec_names_points_and_passes() -> None:
    # Given two armed points, When parsed, Then each has its pass number
    assert parse_failpoints("bridge.before_kafka_send=exit@3, batch.before_send=stop@25") == {
        "bridge.before_kafka_send": ("exit", 3),
        "batch.before_send": ("stop", 25),
    }
    assert parse_failpoints("") == {}


@pytest.mark.parametrize("spec", ["bridge=crash@1", "x=exit@0", "x=exit", "X=exit@1"])
def test_a_bad_spec_stops_the_worker_at_start(spec: str) -> None:
    # Given a malformed DISTGATE_FAILPOINTS, When settings are read, Then the start is refused
    with pytest.raises(ConfigurationError, match="DISTGATE_FAILPOINTS"):
        Settings.from_env({"DISTGATE_FAILPOINTS": spec})


def test_unarmed_points_do_nothing() -> None:
    # Given no failpoints, When any point is passed many times, Then nothing happens
    points = Failpoints("")
    for _ in range(1000):
        points.hit("bridge.after_kafka_ack")


def test_the_armed_pass_exits_at_once_with_137() -> None:
    # Given a point armed for its 3rd pass, in a child process
    code = (
        "from agents.runtime.failpoints import Failpoints\n"
        "p = Failpoints('x.y=exit@3')\n"
        "for i in range(5):\n"
        "    p.hit('other'); p.hit('x.y'); print(i, flush=True)\n"
    )
    # When the child passes it five times
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    # Then it died on the 3rd pass, before printing it, with SIGKILL's status
    assert result.returncode == EXIT_CODE
    assert result.stdout.split() == ["0", "1"]
    assert "failpoint x.y" in result.stderr


def test_a_stop_point_freezes_the_process_until_it_is_continued() -> None:
    # Given a child armed to stop on its 2nd pass through a point
    code = (
        "from agents.runtime.failpoints import Failpoints\n"
        "p = Failpoints('x.y=stop@2')\n"
        "for i in range(3):\n"
        "    p.hit('x.y'); print(i, flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # When it reaches that pass, Then it is stopped (waitpid reports it), not dead
    _pid, status = os.waitpid(child.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
    # And once continued it carries on where it stood
    os.kill(child.pid, signal.SIGCONT)
    out, err = child.communicate(timeout=30)
    assert out.split() == ["0", "1", "2"]
    assert "failpoint x.y: stopping" in err

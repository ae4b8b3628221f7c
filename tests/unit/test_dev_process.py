"""The dev stack's process handling: pid files, stale pids, stopping, waiting."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from app.dev import process


def _spawn(tmp_path: Path, *argv: str) -> tuple[int, Path]:
    pid_file = tmp_path / "daemon.pid"
    pid = process.spawn(argv, tmp_path / "daemon.log", pid_file, dict(os.environ))
    # Until the child has exec'd, /proc shows the parent's command line (slow under load).
    process.wait_until(
        lambda: argv[0] in process.command_line(pid) or not process.is_alive(pid), 5.0
    )
    return pid, pid_file


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_spawned_process_is_recorded_and_stopped(tmp_path: Path) -> None:
    # Given a detached `sleep` started with a pid file
    pid, pid_file = _spawn(tmp_path, "sleep", "30")

    # When its pid file is read
    recorded = process.read_pid(pid_file, "sleep")

    # Then it names the live process, in its own process group
    assert recorded == pid
    assert process.is_alive(pid)
    assert os.getpgid(pid) == pid

    # When it is stopped
    stopped = process.stop(pid_file, "sleep", grace=5.0)

    # Then it is gone and so is its pid file
    assert stopped == pid
    assert not process.is_alive(pid)
    assert not pid_file.exists()


def test_pid_file_of_an_exited_process_is_stale(tmp_path: Path) -> None:
    # Given a pid file whose process has already exited
    pid, pid_file = _spawn(tmp_path, "sleep", "0")
    assert process.wait_until(lambda: not process.is_alive(pid), 5.0)

    # When it is read
    recorded = process.read_pid(pid_file, "sleep")

    # Then nothing runs and the stale file is removed
    assert recorded is None
    assert not pid_file.exists()


@pytest.mark.parametrize("content", ["not a pid\n", f"{os.getpid()}\n"])
def test_garbage_or_recycled_pid_is_stale(tmp_path: Path, content: str) -> None:
    # Given a pid file with garbage, or with the pid of an unrelated live process
    pid_file = tmp_path / "kafka.pid"
    pid_file.write_text(content)

    # When it is read, or stopped, as a Kafka broker's pid file
    recorded = process.read_pid(pid_file, "kafka.Kafka")
    stopped = process.stop(pid_file, "kafka.Kafka")

    # Then it counts as stale: removed, and no process is signalled
    assert recorded is None
    assert stopped is None
    assert not pid_file.exists()


def test_stop_kills_what_ignores_sigterm_and_the_whole_group(tmp_path: Path) -> None:
    # Given a shell that ignores SIGTERM and has a child in its process group
    pid, pid_file = _spawn(tmp_path, "sh", "-c", "trap '' TERM; sleep 30 & wait")
    assert process.wait_until(lambda: "sleep" in _group_commands(pid), 5.0)

    # When it is stopped with a short grace period
    started = time.monotonic()
    process.stop(pid_file, "sh", grace=0.5)

    # Then SIGKILL ended the shell and its child soon after the grace period
    assert time.monotonic() - started < 5.0
    assert process.wait_until(lambda: _group_gone(pid), 5.0)


def test_waiting_gives_up_once_the_process_died(tmp_path: Path) -> None:
    # Given a process that exits at once
    pid, _ = _spawn(tmp_path, "sh", "-c", "echo boom; exit 3")

    # When we wait for a condition that never holds
    started = time.monotonic()
    ready = process.wait_until(lambda: False, 60.0, pid)

    # Then the wait ends early, and the log holds the output
    assert not ready
    assert time.monotonic() - started < 5.0
    assert process.tail(tmp_path / "daemon.log") == "boom"


def test_port_open_sees_a_listener(tmp_path: Path) -> None:
    # Given a listening socket on an ephemeral loopback port
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        # Then the port counts as open while it listens
        assert process.port_open("127.0.0.1", port)

    # And as closed once it is gone
    assert not process.port_open("127.0.0.1", port)


def test_tail_keeps_the_last_lines_without_colour_codes(tmp_path: Path) -> None:
    # Given a log with many lines, some coloured
    log = tmp_path / "mvn.log"
    log.write_text("".join(f"\x1b[0mline {n}\x1b[0m\n" for n in range(100)))

    # When its tail is taken
    text = process.tail(log, lines=3)

    # Then it is the last three lines, plain
    assert text == "line 97\nline 98\nline 99"


def _group_commands(pgid: int) -> str:
    """The command lines of the processes in a process group (Linux /proc)."""
    names = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    names.append(process.command_line(int(entry.name)))
            except ProcessLookupError:
                continue
    return " ".join(names)

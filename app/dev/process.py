"""Detached daemons: spawn with a pid file and a log, probe, wait for ports, stop (Linux)."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

POLL_SECONDS = 0.2
TAIL_BYTES = 64 * 1024
DEAD_STATES = ("Z", "X")  # zombie, dead
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def spawn(argv: Sequence[str], log_file: Path, pid_file: Path, env: Mapping[str, str]) -> int:
    """Start argv in a new session (its own process group), output appended to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_file), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    # posix_spawn leaves no Popen object behind, so nothing warns that the daemon outlives us.
    pid = os.posix_spawnp(argv[0], list(argv), dict(env), file_actions=file_actions, setsid=True)
    pid_file.write_text(f"{pid}\n")
    return pid


def is_alive(pid: int) -> bool:
    """Tell whether pid is a live (not zombie) process; reaps it if it is our exited child."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _proc_stat(pid)
    return bool(stat) and stat[0] not in DEAD_STATES


def command_line(pid: int) -> str:
    """Return the command line of pid, arguments joined by spaces ("" if gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is pid."""
    return [
        child
        for child in _proc_pids()
        if (stat := _proc_stat(child))[1:2] == [str(pid)] and stat[0] not in DEAD_STATES
    ]


def read_pid(pid_file: Path, marker: str) -> int | None:
    """Return the live pid recorded in pid_file, removing the file if it is stale."""
    try:
        pid = int(pid_file.read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        pid_file.unlink(missing_ok=True)
        return None
    # The marker guards against a recycled pid now owned by an unrelated process.
    if is_alive(pid) and marker in command_line(pid):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def stop(pid_file: Path, marker: str, grace: float = 30.0) -> int | None:
    """Stop the process group recorded in pid_file: SIGTERM, then SIGKILL after grace."""
    pid = read_pid(pid_file, marker)
    if pid is not None:
        _signal_group(pid, signal.SIGTERM)
        if not wait_until(lambda: not _group_alive(pid), grace):
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: not _group_alive(pid), 5.0)
        is_alive(pid)  # reaps the leader if it is our child and exited since the last look
    pid_file.unlink(missing_ok=True)
    return pid


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Tell whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(ready: Callable[[], bool], timeout: float, pid: int | None = None) -> bool:
    """Poll ready() until it holds or timeout passes; give up early once pid has died."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return True
        if time.monotonic() >= deadline or (pid is not None and not is_alive(pid)):
            return False
        time.sleep(POLL_SECONDS)


def tail(path: Path, lines: int = 20) -> str:
    """Return the last lines of a log file without colour codes ("" if it does not exist)."""
    try:
        with path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - TAIL_BYTES))
            text = log.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(ANSI_ESCAPE.sub("", text).splitlines()[-lines:])


def rotate(log_file: Path) -> None:
    """Keep the previous run's log as <name>.1 so each start begins a fresh log."""
    if log_file.exists():
        log_file.replace(log_file.with_name(log_file.name + ".1"))


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on lock_file (serialises concurrent `dev up`s)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    """Send signum to every process of the group (wrapper scripts and their children)."""
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    """Tell whether a live (not zombie) process of the group is left."""
    is_alive(pgid)  # reaps the leader if it is our child
    # Not os.killpg(pgid, 0): it also counts zombies that init has not reaped yet.
    return any(
        stat[2:3] == [str(pgid)] and stat[0] not in DEAD_STATES
        for stat in map(_proc_stat, _proc_pids())
    )


def _proc_pids() -> list[int]:
    """The pids of all processes, from /proc."""
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _proc_stat(pid: int) -> list[str]:
    """The /proc/<pid>/stat fields after the name: state, ppid, pgrp, ... ([] if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat.rpartition(")")[2].split()

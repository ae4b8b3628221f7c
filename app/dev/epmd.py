"""The Erlang port mapper RabbitMQ needs: ours on loopback, or whichever already runs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from app.dev import process
from app.dev.service import HOST, DevStackError, base_env, failure

MARKER = "epmd"


def ensure(workdir: Path, port: int, say: Callable[[str], None]) -> None:
    """Start a loopback epmd we own unless one already listens on port (then use that one)."""
    pid_file = workdir / "epmd.pid"
    if process.port_open(HOST, port):
        return
    process.stop(pid_file, MARKER, grace=2.0)  # ours, if left hung without its port
    program = _program()
    # In the foreground (no -daemon) so the pid is the real one and `dev down` can stop it.
    argv = [program, "-address", HOST, "-port", str(port)]
    pid = process.spawn(argv, workdir / "epmd.log", pid_file, base_env())
    if not process.wait_until(lambda: process.port_open(HOST, port), 10.0, pid):
        process.stop(pid_file, MARKER, grace=2.0)
        raise failure(f"epmd did not listen on {HOST}:{port}", argv, workdir / "epmd.log")
    say(f"epmd: started on {HOST}:{port} (pid {pid})")


def stop_if_unused(workdir: Path, port: int, node: str, say: Callable[[str], None]) -> None:
    """Stop the epmd we started, unless an Erlang node other than ours still uses it."""
    pid_file = workdir / "epmd.pid"
    pid = process.read_pid(pid_file, MARKER)
    if pid is None:
        return
    # Our node, just stopped, may still be listed for a moment.
    others = [name for name in registered_nodes(port) if name != node.partition("@")[0]]
    if others:
        say(f"epmd: left running (pid {pid}), still used by {', '.join(others)}")
        return
    process.stop(pid_file, MARKER, grace=5.0)
    say(f"epmd: stopped pid {pid}")


def registered_nodes(port: int) -> list[str]:
    """Names of the Erlang nodes registered with the epmd on port."""
    try:
        argv = [_program(), "-port", str(port), "-names"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (DevStackError, OSError, subprocess.TimeoutExpired):
        return []
    return [line.split()[1] for line in done.stdout.splitlines() if line.startswith("name ")]


def _program() -> str:
    """The epmd executable (it comes with the Erlang runtime rabbitmq-server depends on)."""
    found = shutil.which("epmd") or shutil.which("epmd", path="/usr/lib/erlang/bin")
    if found is None:
        raise DevStackError("`epmd` not found: the Erlang runtime (erlang-base) seems missing")
    return found

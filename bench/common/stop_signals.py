"""SIGTERM stops a bench run as Ctrl-C does: its workers and helpers are stopped on the way out.

Python's default for SIGTERM ends the process on the spot, with no `finally` run, so the
workers it started (each in a session of its own) outlived it. `asyncio.run` answers
SIGINT by cancelling the run's task, whose cleanup stops every process it started; a
SIGTERM is turned into that.
"""

import contextlib
import os
import signal
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM is handled as SIGINT."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    os.kill(os.getpid(), signal.SIGINT)

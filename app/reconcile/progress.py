"""Progress of a long reconcile on stderr, so a big file does not look like a hang."""

import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """One rewritten line on a terminal, else a plain line now and then; silent when quick.

    Nothing shows before `delay` seconds, so a small file prints no progress at all; a log
    (stderr not a terminal) gets one line per `period` seconds rather than a stream of `\\r`.
    """

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        *,
        delay: float = 1.0,
        period: float = 10.0,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._terminal = stream.isatty()
        self._every = 0.1 if self._terminal else period
        self._next = clock() + (delay if self._terminal else period)
        self._shown = False

    def show(self, status: str) -> None:
        """Report where the work is, if it is time to."""
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self._every
        if self._terminal:
            self._stream.write(f"\r\x1b[2Kreconcile: {status}")
        else:
            self._stream.write(f"reconcile: {status}\n")
        self._stream.flush()
        self._shown = True

    def done(self) -> None:
        """Clear the terminal's progress line before the report is printed."""
        if self._terminal and self._shown:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()

"""The live view: a pure renderer of snapshots, redrawn in place on a terminal, else plain lines."""

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from protocols.orders import OrderStatus

OPENS, CLOSES = 8 * 60, 18 * 60  # the simulated day, in minutes: 08:00 to 18:00
BAR = 36
TTY_EVERY, PLAIN_EVERY = 0.3, 5.0  # seconds between frames
UP, CLEAR_LINE, CLEAR_BELOW = "\x1b[{}F", "\x1b[K", "\x1b[J"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


@dataclass(frozen=True)
class Snapshot:
    """Everything one frame shows."""

    run: str
    phase: str
    day: float  # share of the trading day played, 0..1
    elapsed: float  # seconds since the demo started
    planned: int
    placed: int = 0
    looks: int = 0
    checks: int = 0
    cancels: int = 0
    statuses: Mapping[str, int] = field(default_factory=dict)
    stock: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # warehouse -> on_hand, atp
    rate: float = 0.0  # input messages the gateway applied per second
    wms_sent: int = 0
    erp_sent: int = 0
    note: str = ""


def clock(day: float) -> str:
    """The simulated time of day for a share of the day played."""
    minutes = OPENS + round(max(0.0, min(1.0, day)) * (CLOSES - OPENS))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def bar(share: float, width: int = BAR) -> str:
    """A progress bar of `width` cells."""
    filled = round(max(0.0, min(1.0, share)) * width)
    return "█" * filled + "░" * (width - filled)


def render(s: Snapshot) -> list[str]:
    """The frame for a terminal: header, day bar, shop, orders by status beside stock."""
    left = [f"  {'orders':<13}{'count':>6}"] + [
        f"  {status:<13}{s.statuses.get(status, 0):>6}" for status in OrderStatus
    ]
    right = [f"{'stock':<10}{'on_hand':>9}{'atp':>8}"] + [
        f"{warehouse:<10}{on_hand:>9,}{atp:>8,}"
        for warehouse, (on_hand, atp) in sorted(s.stock.items())
    ]
    rows = [f"{a:<26}{b}" for a, b in zip(left, right + [""] * len(left), strict=False)]
    lines = [
        f"distgate demo  run {s.run}  {s.phase}  {_minutes(s.elapsed)} elapsed",
        f"  day {bar(s.day)} {s.day:>4.0%}  {clock(s.day)}",
        f"  shop: {s.placed}/{s.planned} orders placed, {s.looks} ATP looks, "
        f"{s.checks} checks, {s.cancels} cancels",
        f"  gateway: {s.rate:,.0f} msgs/s applied; WMS sent {s.wms_sent}, ERP sent {s.erp_sent}",
        "",
        *rows,
    ]
    return [*lines, f"  {s.note}"] if s.note else lines


def render_line(s: Snapshot) -> str:
    """One plain progress line, for logs and pipes."""
    statuses = " ".join(f"{k} {v}" for k, v in _in_order(s.statuses) if v)
    line = (
        f"[{_minutes(s.elapsed)}] {s.phase} {s.day:.0%} ({clock(s.day)}): "
        f"{s.placed}/{s.planned} placed; {statuses or 'no orders yet'}; {s.rate:,.0f} msgs/s"
    )
    return f"{line}; {s.note}" if s.note else line


def _in_order(statuses: Mapping[str, int]) -> Sequence[tuple[str, int]]:
    return [(status, statuses.get(status, 0)) for status in OrderStatus]


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class LiveView:
    """Shows snapshots while the demo runs: in place on a terminal, or a line every few seconds."""

    def __init__(self, out: TextIO, tty: bool, snapshot: Callable[[], Snapshot]) -> None:
        self._out, self._tty, self._snapshot = out, tty, snapshot
        self._drawn = 0  # lines of the frame on screen

    async def run(self) -> None:
        """Draw until cancelled."""
        every = TTY_EVERY if self._tty else PLAIN_EVERY
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                self.draw()
                await asyncio.sleep(every)

    def draw(self) -> None:
        """Show the current snapshot once."""
        snapshot = self._snapshot()
        if not self._tty:
            self._write(render_line(snapshot) + "\n")
            return
        frame = render(snapshot)
        head = (UP.format(self._drawn) if self._drawn else HIDE_CURSOR) + CLEAR_BELOW
        self._write(head + "".join(f"{line}{CLEAR_LINE}\n" for line in frame))
        self._drawn = len(frame)

    def say(self, message: str) -> None:
        """Print a message above the frame (which the next draw puts back)."""
        if self._tty and self._drawn:
            self._write(UP.format(self._drawn) + CLEAR_BELOW)
            self._drawn = 0
        self._write(message + "\n")

    def close(self) -> None:
        """Leave the last frame on screen and give the cursor back."""
        self.draw()
        if self._tty:
            self._write(SHOW_CURSOR)

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

"""The backorder oracle's rules: backorders filled oldest first, none kept waiting by free stock.

Pure, over facts gathered after the run (`bench.peak.backorder_facts`): each order line's
final figures, the ATP left per SKU and warehouse, and where each line stands in its SKU's
stock inbox, the log the stock side applies one SKU's messages from in order. A line joined
its SKU's backorder queue at its ReserveLine; each fill it got took place at the message
that caused it (the fill's causation id names it). From those places:
- `stuck`: a line still backordered while its SKU has ATP at a warehouse it may take from;
- `out_of_order`: a newer order's line took units of a warehouse (a backorder fill or its
  own first reservation) while an older line that may take from there was still waiting;
- `equation_broken`: a line whose `reserved + allocated + shipped + backordered + cancelled`
  is not its qty.
It assumes what the bench's load does: a line waits from its reservation until its last
fill, and no short pick or stock take-back sends it back to the queue later.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LineKey = tuple[str, int]  # (order id, line no)
Position = tuple[str, str]  # (sku, warehouse)
SHOWN = 5


@dataclass(frozen=True)
class Line:
    """One order line as the gateway shows it at the end of the run."""

    order_id: str
    line_no: int
    sku: str
    qty: int
    submitted_at: dt.datetime  # its order's submission: its place in the SKU's queue
    reserved: int = 0
    allocated: int = 0
    shipped: int = 0
    backordered: int = 0
    cancelled: int = 0
    held: Mapping[str, int] = field(default_factory=dict)  # units per warehouse, ever taken
    warehouse: str | None = None  # the warehouse the order asked for (None: any)

    @property
    def key(self) -> LineKey:
        """The order line."""
        return (self.order_id, self.line_no)

    @property
    def rank(self) -> tuple[dt.datetime, str, int]:
        """Its place in the queue: older orders first, ties by order id and line."""
        return (self.submitted_at, self.order_id, self.line_no)

    def takes_from(self, warehouse: str) -> bool:
        """Whether stock in `warehouse` may fill this line."""
        return self.warehouse in (None, warehouse)

    def balances(self) -> bool:
        """`reserved + allocated + shipped + backordered + cancelled = qty`."""
        parts = self.reserved + self.allocated + self.shipped + self.backordered
        return parts + self.cancelled == self.qty


@dataclass(frozen=True)
class Fill:
    """Backordered units of a line taken at `warehouse`, at place `at` of its SKU's inbox."""

    order_id: str
    line_no: int
    warehouse: str
    qty: int
    at: int

    @property
    def key(self) -> LineKey:
        """The order line filled."""
        return (self.order_id, self.line_no)


@dataclass(frozen=True)
class Facts:
    """What the oracle judges: lines, fills, where each line joined, the ATP left."""

    lines: Sequence[Line]
    fills: Sequence[Fill]
    joined_at: Mapping[LineKey, int]  # the place of the line's ReserveLine in its SKU's inbox
    atp: Mapping[Position, int]
    unplaced_fills: int = 0  # fills whose cause the inbox did not show


def backorder_section(facts: Facts) -> dict[str, Any]:
    """The report's `backorders` section; `correct` only when nothing is stuck, out of
    order or unbalanced, and every waiting line and fill was placed (else it was not judged)."""
    fills_of: dict[LineKey, list[Fill]] = defaultdict(list)
    for fill in facts.fills:
        fills_of[fill.key].append(fill)
    waited = [line for line in facts.lines if line.backordered or fills_of.get(line.key)]
    stuck = stuck_lines(waited, facts.atp)
    late = out_of_order(facts.lines, fills_of, facts.joined_at)
    broken = [
        f"{line.order_id}/{line.line_no}: {_parts(line)} != {line.qty}"
        for line in facts.lines
        if not line.balances()
    ]
    filled = [line for line in waited if fills_of.get(line.key)]
    unplaced = facts.unplaced_fills + sum(1 for line in waited if line.key not in facts.joined_at)
    return {
        "orders_backordered": len({line.order_id for line in waited}),
        "lines_backordered": len(waited),
        "lines_filled": len(filled),
        "lines_filled_completely": sum(1 for line in filled if not line.backordered),
        "units_filled": sum(fill.qty for fill in facts.fills),
        "lines_waiting": sum(1 for line in waited if line.backordered),
        "units_waiting": sum(line.backordered for line in waited),
        "lines_checked": len(facts.lines),
        "unplaced": unplaced,
        "stuck": len(stuck),
        "out_of_order": len(late),
        "equation_broken": len(broken),
        "problems": [*stuck, *late, *broken][:SHOWN],
        "correct": not (stuck or late or broken or unplaced),
    }


def stuck_lines(lines: Iterable[Line], atp: Mapping[Position, int]) -> list[str]:
    """Lines still backordered while a warehouse they may take from has ATP."""
    free: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (sku, warehouse), units in sorted(atp.items()):
        if units > 0:
            free[sku].append((warehouse, units))
    found = []
    for line in lines:
        open_to = [(w, units) for w, units in free.get(line.sku, ()) if line.takes_from(w)]
        if line.backordered and open_to:
            warehouse, units = open_to[0]
            found.append(
                f"stuck {line.order_id}/{line.line_no}: {line.backordered} of {line.sku} "
                f"waiting, ATP {warehouse} {units}"
            )
    return found


def out_of_order(
    lines: Sequence[Line],
    fills_of: Mapping[LineKey, Sequence[Fill]],
    joined_at: Mapping[LineKey, int],
) -> list[str]:
    """Takes by a newer line of a warehouse an older waiting line of the SKU may take from.

    A take is a backorder fill, or what a line reserved at its own ReserveLine (its units
    held at a warehouse beyond its fills there). An older line waited at place `at` when it
    joined before it and was still backordered after it: its last fill came later, or it
    still waits at the end.
    """
    by_sku: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        if line.key in joined_at:
            by_sku[line.sku].append(line)
    found = []
    for sku, placed in by_sku.items():
        waiting = [line for line in placed if line.backordered or fills_of.get(line.key)]
        done_at = {line.key: _done_at(line, fills_of.get(line.key, ())) for line in waiting}
        for newer in placed:
            for take in _takes(newer, fills_of.get(newer.key, ()), joined_at):
                older = next(
                    (
                        line
                        for line in waiting
                        if line.rank < newer.rank
                        and line.takes_from(take.warehouse)
                        and joined_at[line.key] < take.at < done_at[line.key]
                    ),
                    None,
                )
                if older is not None:
                    found.append(
                        f"out of order {sku}@{take.warehouse}: {take.qty} to "
                        f"{newer.order_id}/{newer.line_no} at {take.at} while "
                        f"{older.order_id}/{older.line_no} waited"
                    )
    return found


def _takes(line: Line, fills: Sequence[Fill], joined_at: Mapping[LineKey, int]) -> list[Fill]:
    """The line's fills, and what it reserved at its own ReserveLine, per warehouse."""
    filled: dict[str, int] = defaultdict(int)
    for fill in fills:
        filled[fill.warehouse] += fill.qty
    first = [
        Fill(line.order_id, line.line_no, warehouse, units - filled[warehouse], joined_at[line.key])
        for warehouse, units in line.held.items()
        if units > filled[warehouse]
    ]
    return [*first, *fills]


def _done_at(line: Line, fills: Sequence[Fill]) -> float:
    """The place after which the line no longer waited (infinite: it still does)."""
    if line.backordered:
        return float("inf")
    return max((fill.at for fill in fills), default=-1)


def _parts(line: Line) -> str:
    return f"{line.reserved}+{line.allocated}+{line.shipped}+{line.backordered}+{line.cancelled}"

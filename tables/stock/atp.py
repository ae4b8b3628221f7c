"""Available-to-promise decisions over a SKU's stock: sourcing, promise dates, line checks."""

import datetime as dt
from collections.abc import Mapping, Sequence

import msgspec
from msgspec.structs import replace

from tables.stock.value import Position, SkuStock


class LineQuery(msgspec.Struct, frozen=True):
    """One line of an ATP check: how many of a SKU, optionally from a given warehouse."""

    sku: str
    qty: int
    warehouse: str | None = None


class LineAnswer(msgspec.Struct, frozen=True):
    """The answer for one line (CONTRACT 2.2 `POST /v1/atp/check`)."""

    sku: str
    qty: int
    available: bool  # covered by ATP now
    warehouse: str | None  # the sourced warehouse, or the asked one
    atp: int
    promise_date: dt.date | None


def available_to_promise(position: Position) -> int:
    """ATP of one position: never negative (CONTRACT 5)."""
    return position.atp


def source_line(stock: SkuStock, qty: int, warehouse: str | None = None) -> Position | None:
    """The position that would serve `qty` now: the asked one, else the largest ATP covering it."""
    if warehouse is not None:
        asked = stock.position(warehouse)
        return asked if asked is not None and asked.atp >= qty else None
    best = min(stock.positions, key=lambda p: (-p.atp, p.warehouse), default=None)
    return best if best is not None and best.atp >= qty else None


Fills = tuple[tuple[Position, int], ...]
"""Where a line would be reserved: each position with the quantity it gives."""


def fill_line(
    stock: SkuStock, qty: int, warehouse: str | None, partial: bool, last: str | None = None
) -> Fills:
    """Where `qty` would be reserved now; all from one position unless `partial`.

    A partial fill takes what the asked warehouse has, or what the largest ATP has, then
    the next largest (ties to the first code), until `qty` is covered; the rest is left.
    The warehouse `last` gives only what the others cannot.
    """
    if not partial:
        whole = source_line(stock, qty, warehouse)
        return () if whole is None else ((whole, qty),)
    candidates = [p for p in stock.positions if warehouse in (None, p.warehouse) and p.atp > 0]
    fills: list[tuple[Position, int]] = []
    for position in sorted(candidates, key=lambda p: (p.warehouse == last, -p.atp, p.warehouse)):
        taken = min(position.atp, qty - sum(n for _, n in fills))
        if taken == 0:
            break
        fills.append((position, taken))
    return tuple(fills)


def best_atp(stock: SkuStock, warehouse: str | None = None) -> int:
    """The ATP a line could get at most: the asked warehouse's, else the largest; 0 if none."""
    if warehouse is not None:
        asked = stock.position(warehouse)
        return 0 if asked is None else asked.atp
    return max((p.atp for p in stock.positions), default=0)


def promise_date(position: Position, qty: int, today: dt.date) -> dt.date | None:
    """Earliest date `qty` is covered here: today, else when enough expected receipts are due."""
    # An overdue PO (eta before today) still counts, as due today. Receipts first fill any
    # shortfall (commitments beyond on_hand), so the date is when projected ATP covers `qty`.
    # What the backorder queue was promised of a receipt is not promised again.
    if position.atp >= qty:
        return today
    covered = position.net_available
    for supply in sorted(position.incoming, key=lambda s: s.eta):
        covered += supply.unpromised
        if covered >= qty:
            return max(supply.eta, today)
    return None


def check_line(
    stock: SkuStock | None, sku: str, qty: int, warehouse: str | None, today: dt.date
) -> LineAnswer:
    """Answer one line: sourced now if possible, else the warehouse that can promise earliest."""
    if warehouse is not None:
        position = None if stock is None else stock.position(warehouse)
        return _answer(sku, qty, warehouse, position, today)
    if stock is None:
        return _answer(sku, qty, None, None, today)
    chosen = source_line(stock, qty) or _earliest_promise(stock, qty, today)
    if chosen is None:
        return replace(_answer(sku, qty, None, None, today), atp=best_atp(stock))
    return _answer(sku, qty, chosen.warehouse, chosen, today)


def check_lines(
    lines: Sequence[LineQuery], stocks: Mapping[str, SkuStock], today: dt.date
) -> tuple[LineAnswer, ...]:
    """Answer a whole check: a line covered now holds its qty, so later lines see less ATP."""
    # This mirrors what submitting the same lines as one order would reserve.
    held = dict(stocks)
    answers: list[LineAnswer] = []
    for line in lines:
        stock = held.get(line.sku)
        answer = check_line(stock, line.sku, line.qty, line.warehouse, today)
        if answer.available and stock is not None and answer.warehouse is not None:
            held[line.sku] = _hold(stock, answer.warehouse, line.qty)
        answers.append(answer)
    return tuple(answers)


def _answer(
    sku: str, qty: int, warehouse: str | None, position: Position | None, today: dt.date
) -> LineAnswer:
    """The answer for a line served by `position` (None: no stock there, nothing promised)."""
    if position is None:
        return LineAnswer(
            sku=sku, qty=qty, available=False, warehouse=warehouse, atp=0, promise_date=None
        )
    return LineAnswer(
        sku=sku,
        qty=qty,
        available=position.atp >= qty,
        warehouse=warehouse,
        atp=position.atp,
        promise_date=promise_date(position, qty, today),
    )


def _earliest_promise(stock: SkuStock, qty: int, today: dt.date) -> Position | None:
    """The position with the earliest promise date for `qty`; ties go to the first code."""
    dated = [
        (date, position.warehouse, position)
        for position in stock.positions
        if (date := promise_date(position, qty, today)) is not None
    ]
    return min(dated, key=lambda d: (d[0], d[1]))[2] if dated else None


def _hold(stock: SkuStock, warehouse: str, qty: int) -> SkuStock:
    """`stock` as if `qty` were reserved in `warehouse` (for the rest of one check only)."""
    return replace(
        stock,
        positions=tuple(
            replace(p, reserved=p.reserved + qty) if p.warehouse == warehouse else p
            for p in stock.positions
        ),
    )

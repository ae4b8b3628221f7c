"""A SKU's backorder queue: units order lines wait for, served oldest order first.

Pure rules over the queue's entries (`Backorder`, oldest first), read lazily: when a
warehouse's ATP rises the oldest entries that may take from it do, before any later
order can (`serve`, which reads no further than the risen ATP goes); and expected
receipts are promised in the same order, so the same units are never promised twice
(`promise`, which reads no further than the receipts and the dates given before go).
The stock actor decides all of them for the SKU, on its one partition.
"""

import datetime as dt
from collections.abc import Iterable, Iterator

import msgspec
from msgspec.structs import replace

from tables.stock.value import IncomingSupply, LineKey, Position, SkuStock, Supply

Rank = tuple[dt.datetime, str, int]
"""Where an entry stands in the queue: its order's submission, then order id and line."""


class Backorder(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One order line's units waiting for stock of the SKU."""

    # Encoded as arrays: new fields go last, with defaults.
    submitted_at: dt.datetime  # the order's submission: its place in the queue
    order_id: str
    line_no: int
    qty: int  # units still waiting
    warehouse: str | None = None  # the line asked for this warehouse only
    promise_date: dt.date | None = None  # as the order was last told
    correlation_id: str = ""  # the order's, for its answers

    @property
    def key(self) -> LineKey:
        """The order line waiting."""
        return (self.order_id, self.line_no)

    @property
    def rank(self) -> Rank:
        """The entry's place: older orders first, ties by order id and line."""
        return (self.submitted_at, self.order_id, self.line_no)

    def takes_from(self, warehouse: str) -> bool:
        """Whether stock in `warehouse` may fill this line."""
        return self.warehouse in (None, warehouse)


Queue = tuple[Backorder, ...]
"""A SKU's backorders, oldest first."""

Changed = tuple[tuple[LineKey, Backorder | None], ...]
"""Entries as a rule left them, by line (None: the line left the queue)."""

Waiting = dict[str | None, int]
"""Units waiting, by the warehouse their lines asked for (None: any)."""


class QueueFill(msgspec.Struct, frozen=True):
    """Units of one queued line newly reserved in one warehouse."""

    line: LineKey
    warehouse: str
    qty: int
    waiting: int  # the line's units in the queue before this fill
    correlation_id: str = ""
    asked: str | None = None  # the warehouse the line asked for (None: any)


class Served(msgspec.Struct, frozen=True):
    """What serving the queue did: positions with the units reserved, the entries, the fills."""

    positions: tuple[Position, ...]  # only those that gave something
    changed: Changed  # entries filled in part, or wholly (gone)
    fills: tuple[QueueFill, ...]


def serve(
    stock: SkuStock, queue: Iterable[Backorder], rose: Iterable[str], waiting: Waiting
) -> Served:
    """The oldest entries take the ATP of the warehouses in `rose`, before anyone else can.

    Each entry in turn takes what it may from those warehouses, largest ATP first (ties to
    the first code), as a new line would; an entry left with nothing waiting leaves. No
    entry is read once that ATP is used up, or once no entry left to read (`waiting`
    counts their units) may take what is left of it.
    """
    atp = {w: p.atp for w in set(rose) if (p := stock.position(w)) is not None and p.atp > 0}
    unread = dict(waiting)
    fills: list[QueueFill] = []
    changed: list[tuple[LineKey, Backorder | None]] = []
    entries = iter(queue)
    while _may_take(atp, unread) and (entry := next(entries, None)) is not None:
        unread[entry.warehouse] = unread.get(entry.warehouse, 0) - entry.qty
        need = entry.qty
        for warehouse in sorted(atp, key=lambda w: (-atp[w], w)):
            taken = min(need, atp[warehouse]) if entry.takes_from(warehouse) else 0
            if taken:
                fills.append(
                    QueueFill(
                        entry.key,
                        warehouse,
                        taken,
                        entry.qty,
                        entry.correlation_id,
                        entry.warehouse,
                    )
                )
                atp[warehouse] -= taken
                need -= taken
        if need != entry.qty:
            changed.append((entry.key, replace(entry, qty=need) if need else None))
    return Served(_reserved(stock, fills), tuple(changed), tuple(fills))


def _may_take(atp: dict[str, int], unread: Waiting) -> bool:
    """Whether lines not read yet may take some of the ATP left."""
    return any(n and (unread.get(None, 0) > 0 or unread.get(w, 0) > 0) for w, n in atp.items())


def _reserved(stock: SkuStock, fills: list[QueueFill]) -> tuple[Position, ...]:
    """The positions that gave to `fills`, with those units reserved."""
    given: dict[str, int] = {}
    for fill in fills:
        given[fill.warehouse] = given.get(fill.warehouse, 0) + fill.qty
    return tuple(
        replace(p, reserved=p.reserved + given[p.warehouse])
        for p in stock.positions
        if p.warehouse in given
    )


class PromiseInputs(msgspec.Struct, frozen=True, array_like=True):
    """What the queue's promise dates depend on besides its entries: the business day, and
    each warehouse's shortfall and expected receipts (with the shares they were promised)."""

    today: dt.date
    supplies: tuple[tuple[str, int, Supply], ...]  # (warehouse, shortfall, incoming)


def promise_inputs(stock: SkuStock, today: dt.date) -> PromiseInputs:
    """The inputs of `promise` other than the entries, as they stand in `stock`."""
    return PromiseInputs(
        today,
        tuple(
            (p.warehouse, max(0, -p.net_available), p.incoming)
            for p in stock.positions
            if p.incoming
        ),
    )


class Promised(msgspec.Struct, frozen=True):
    """Expected receipts promised to the queue: each receipt's share, the dates that changed."""

    positions: tuple[Position, ...]  # every position, its receipts' `promised` recounted
    changed: Changed  # entries whose date is new, in queue order
    dated_through: Rank | None  # the last entry with a date: every later one has none


class _Receipt:
    """An expected receipt's units being handed out (mutable, for one projection only)."""

    __slots__ = ("eta", "free", "po_id", "promised", "warehouse")

    def __init__(self, warehouse: str, supply: IncomingSupply, shortfall: int) -> None:
        self.warehouse, self.po_id, self.eta = warehouse, supply.po_id, supply.eta
        self.free = supply.qty - shortfall
        self.promised = 0


def promise(
    stock: SkuStock, queue: Iterable[Backorder], today: dt.date, dated_through: Rank | None
) -> Promised:
    """Hand out expected receipts to the queue, oldest entry first, earliest receipt first.

    A warehouse's receipts first cover its shortfall (commitments beyond its stock); an
    entry takes units even when they cannot cover it all (they fill it when they arrive),
    so a later entry never counts on them. An overdue receipt is due today. Once every
    receipt is handed out, the entries after `dated_through` (which had no date, and get
    none) are not read.
    """
    receipts = sorted(
        (r for p in stock.positions for r in _receipts(p)),
        key=lambda r: (r.eta, r.warehouse, r.po_id),
    )
    changed: list[tuple[LineKey, Backorder | None]] = []
    last_dated: Rank | None = None
    for entry in _until_handed_out(queue, receipts, dated_through):
        dated = _dated(entry, receipts, today)
        if dated.promise_date != entry.promise_date:
            changed.append((entry.key, dated))
        if dated.promise_date is not None:
            last_dated = entry.rank
    shares = {(r.warehouse, r.po_id): r.promised for r in receipts}
    positions = tuple(
        replace(
            p,
            incoming=tuple(
                replace(s, promised=shares.get((p.warehouse, s.po_id), 0)) for s in p.incoming
            ),
        )
        for p in stock.positions
    )
    return Promised(positions, tuple(changed), last_dated)


def _until_handed_out(
    queue: Iterable[Backorder], receipts: list[_Receipt], dated_through: Rank | None
) -> Iterator[Backorder]:
    """The entries, up to the first one after `dated_through` once no receipt has units left."""
    entries = iter(queue)
    while any(r.free for r in receipts) or dated_through is not None:
        entry = next(entries, None)
        if entry is None or (not any(r.free for r in receipts) and _past(entry, dated_through)):
            return
        yield entry


def _past(entry: Backorder, dated_through: Rank | None) -> bool:
    """Whether the entry stands after every entry that had a date."""
    return dated_through is None or entry.rank > dated_through


def _receipts(position: Position) -> list[_Receipt]:
    """The position's expected receipts, less what its shortfall takes of them, by eta."""
    shortfall = max(0, -position.net_available)
    receipts = []
    for supply in sorted(position.incoming, key=lambda s: (s.eta, s.po_id)):
        taken = min(shortfall, supply.qty)
        shortfall -= taken
        receipts.append(_Receipt(position.warehouse, supply, taken))
    return receipts


def _dated(entry: Backorder, receipts: list[_Receipt], today: dt.date) -> Backorder:
    """The entry with the date the receipts it takes cover it by (None: they do not)."""
    need, last = entry.qty, today
    for receipt in receipts:
        if not need:
            break
        taken = min(need, receipt.free) if entry.takes_from(receipt.warehouse) else 0
        if taken:
            receipt.free -= taken
            receipt.promised += taken
            need -= taken
            last = max(last, receipt.eta)
    date = None if need else last
    return entry if date == entry.promise_date else replace(entry, promise_date=date)

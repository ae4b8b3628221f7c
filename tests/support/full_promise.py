"""The promise dates of a whole backorder queue, computed from nothing: the oracle that the
stock side's dates, computed again only when their inputs change, are checked against."""

import datetime as dt

from tables.stock.backorder_queue import Queue
from tables.stock.value import SkuStock

Shares = dict[tuple[str, str], int]
"""Units of each expected receipt promised, by (warehouse, po_id)."""


def full_promise(
    stock: SkuStock, queue: Queue, today: dt.date
) -> tuple[list[dt.date | None], Shares]:
    """Each entry's date and each receipt's share, handing out every receipt in queue order.

    A warehouse's receipts first cover its shortfall; an entry takes what it may of the
    earliest receipts (an overdue one is due today) and is dated when they cover it all.
    """
    free: dict[tuple[str, str], int] = {}
    due: dict[tuple[str, str], dt.date] = {}
    for position in stock.positions:
        shortfall = max(0, -position.net_available)
        for supply in sorted(position.incoming, key=lambda s: (s.eta, s.po_id)):
            covered = min(shortfall, supply.qty)
            shortfall -= covered
            free[position.warehouse, supply.po_id] = supply.qty - covered
            due[position.warehouse, supply.po_id] = supply.eta
    order = sorted(free, key=lambda r: (due[r], r[0], r[1]))
    shares = dict.fromkeys(free, 0)
    dates: list[dt.date | None] = []
    for entry in queue:
        need, last = entry.qty, today
        for receipt in order:
            if need and entry.warehouse in (None, receipt[0]) and free[receipt]:
                taken = min(need, free[receipt])
                free[receipt] -= taken
                shares[receipt] += taken
                need -= taken
                last = max(last, due[receipt])
        dates.append(None if need else last)
    return dates, shares

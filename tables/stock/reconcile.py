"""Compare ERP's book stock with distgate's projection: the discrepancy report's rows."""

from collections.abc import Iterable
from typing import Literal

import msgspec

from protocols.book_stock import BookLine
from tables.stock.value import Position, SkuStock

Finding = Literal["mismatch", "missing_in_distgate", "missing_in_erp"]


class Discrepancy(msgspec.Struct, frozen=True):
    """One SKU-warehouse whose on_hand or blocked differs; differences are distgate - ERP.

    A figure is None where its side has no row; the blocked ones are None throughout when
    the book states no blocked figures.
    """

    sku: str
    warehouse: str
    erp_qty: int | None
    distgate_on_hand: int | None
    difference: int
    finding: Finding
    erp_blocked: int | None = None
    distgate_blocked: int | None = None
    blocked_difference: int | None = None


def reconcile(
    book: Iterable[BookLine], projected: Iterable[SkuStock], *, blocked: bool
) -> list[Discrepancy]:
    """Every difference by SKU and warehouse, sorted; a row either side lacks counts as zeros.

    `blocked` says whether the book states blocked figures; if not, only on_hand is compared.
    """
    erp = {(line.sku, line.warehouse): line for line in book}
    ours = {(stock.sku, p.warehouse): p for stock in projected for p in stock.positions}
    found = (
        _compare(key, erp.get(key), ours.get(key), blocked) for key in erp.keys() | ours.keys()
    )
    return sorted((d for d in found if d is not None), key=lambda d: (d.sku, d.warehouse))


def _compare(
    key: tuple[str, str], line: BookLine | None, position: Position | None, blocked: bool
) -> Discrepancy | None:
    difference = _on_hand(position) - (line.qty if line else 0)
    blocked_difference = _blocked(position) - (line.blocked if line else 0) if blocked else None
    if difference == 0 and not blocked_difference:
        return None
    finding: Finding = (
        "missing_in_distgate"
        if position is None
        else "missing_in_erp"
        if line is None
        else "mismatch"
    )
    return Discrepancy(
        *key,
        erp_qty=line.qty if line else None,
        distgate_on_hand=position.on_hand if position else None,
        difference=difference,
        finding=finding,
        erp_blocked=line.blocked if line and blocked else None,
        distgate_blocked=position.blocked if position and blocked else None,
        blocked_difference=blocked_difference,
    )


def _on_hand(position: Position | None) -> int:
    return position.on_hand if position else 0


def _blocked(position: Position | None) -> int:
    return position.blocked if position else 0

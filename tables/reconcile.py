"""Compare ERP's book stock with the projected on_hand: the discrepancy report's rows."""

from collections.abc import Iterable
from typing import Literal

import msgspec

from protocols.book_stock import BookLine
from tables.stock import SkuStock

Finding = Literal["mismatch", "missing_in_distgate", "missing_in_erp"]


class Discrepancy(msgspec.Struct, frozen=True):
    """One SKU-warehouse where ERP and distgate disagree about on_hand."""

    sku: str
    warehouse: str
    erp_qty: int | None
    distgate_on_hand: int | None
    difference: int
    finding: Finding


def reconcile(book: Iterable[BookLine], projected: Iterable[SkuStock]) -> list[Discrepancy]:
    """Every disagreement by SKU and warehouse; a position ERP omits counts if on_hand > 0."""
    erp = {(line.sku, line.warehouse): line.qty for line in book}
    ours = {(s.sku, p.warehouse): p.on_hand for s in projected for p in s.positions}
    found = []
    for key in sorted(erp.keys() | ours.keys()):
        erp_qty, on_hand = erp.get(key), ours.get(key)
        if erp_qty == on_hand or (erp_qty is None and on_hand == 0):
            continue
        finding: Finding = (
            "missing_in_distgate"
            if on_hand is None
            else "missing_in_erp"
            if erp_qty is None
            else "mismatch"
        )
        difference = (on_hand or 0) - (erp_qty or 0)
        found.append(Discrepancy(*key, erp_qty, on_hand, difference, finding))
    return found

"""Releasing an order's reserved fills to their warehouses: at confirmation, and each fill after.

The first release of an order keeps the ids it always had (`allocate`, `release`); each
later one (a backorder filled after confirmation) is numbered, so its commands and its
WMS `txn` are new and stable across replays.
"""

from msgspec.structs import replace

from protocols.orders import LineStatus
from protocols.reservations import AllocateLine, Fill
from protocols.wms import NumberedLine
from protocols.wms_events import ReleaseToWarehouse
from tables.order.change import Change, to_stock, to_warehouse, with_lines
from tables.order.value import OrderLine


def release_reserved(change: Change) -> tuple[Change, tuple[str, ...]]:
    """Allocate every reserved fill and send one Release per warehouse; the warehouses, sorted."""
    lines = [line for line in change.order.lines if line.reserved > 0]
    if not lines:
        return change, ()
    number = change.order.releases
    suffix = "" if number == 0 else str(number + 1)
    batch = [(_allocated(line), line) for line in lines]
    change = with_lines(change, [after for after, _ in batch])
    change = replace(change, order=replace(change.order, releases=number + 1))
    for after, before in batch:
        step = "allocate" if number == 0 else f"allocate@{number + 1}"
        change = to_stock(change, AllocateLine, after, step, fills=_released(before))
    warehouses = sorted({f.warehouse for _, before in batch for f in before.fills if f.reserved})
    for warehouse in warehouses:
        numbered = tuple(
            NumberedLine(no=before.line_no, sku=before.sku, qty=fill.reserved)
            for _, before in batch
            for fill in before.fills
            if fill.warehouse == warehouse and fill.reserved
        )
        change = to_warehouse(
            change, ReleaseToWarehouse, warehouse, f"release{suffix}", lines=numbered
        )
    return change, tuple(warehouses)


def _released(line: OrderLine) -> tuple[Fill, ...]:
    """What releasing `line` sends to each warehouse: its reserved units there."""
    at: dict[str, int] = {}
    for fill in line.fills:
        if fill.reserved:
            at[fill.warehouse] = at.get(fill.warehouse, 0) + fill.reserved
    return tuple(Fill(warehouse, qty) for warehouse, qty in at.items())


def _allocated(line: OrderLine) -> OrderLine:
    """The line with every reserved fill allocated and released to its warehouse."""
    fills = tuple(
        replace(fill, allocated=fill.reserved, reserved=0, released=fill.reserved)
        if fill.reserved
        else fill
        for fill in line.fills
    )
    return replace(line, fills=fills, status=LineStatus.RELEASED)

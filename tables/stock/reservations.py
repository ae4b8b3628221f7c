"""Order lines' commands on a SKU's stock: reserve, release, allocate, short pick, ship, cancel.

Each line keeps one row beside the SKU's value: its holds, one per warehouse it was
filled from. A command that sets the line's holds (reserve, release, allocate,
deallocate) is idempotent by construction, and the deltas (short pick, shipment) name
their warehouse and remember their event ids on that warehouse's hold. No rule ever
reserves more than the ATP, and none drives a figure below zero.
"""

from collections.abc import Callable
from typing import Any, assert_never

import msgspec
from msgspec.structs import replace

from protocols.reservations import (
    AllocateLine,
    BackorderFilled,
    Deallocate,
    Fill,
    FillBackorder,
    LineReserved,
    LineUnreservable,
    RecordShipment,
    RecordShortPick,
    ReleaseReservation,
    ReservationAnswerMessage,
    ReserveLine,
    StockCommand,
    StockCommandMessage,
)
from protocols.topics import StockInboxMessage
from tables.errors import InvalidStockChange
from tables.stock.atp import best_atp, fill_line
from tables.stock.shelf import ShelfKind, off_shelf
from tables.stock.value import (
    LineHolds,
    Position,
    Reservation,
    SkuStock,
    position_at,
    with_on_hand,
)

Answers = tuple[ReservationAnswerMessage, ...]


class LineOutcome(msgspec.Struct, frozen=True):
    """What one order line's command does to a SKU's stock."""

    holds: LineHolds  # the line's holds afterwards (empty: it holds nothing)
    positions: tuple[Position, ...] = ()  # the positions rewritten
    answers: Answers = ()


def apply_command(stock: SkuStock, holds: LineHolds, command: StockCommandMessage) -> LineOutcome:
    """Dispatch to the rule for the command's type, given the line's current holds."""
    match command:
        case ReserveLine():
            return _reserve(stock, holds, command)
        case ReleaseReservation():
            return _each(stock, holds, _released)
        case AllocateLine() if command.fills:
            return _allocate(stock, holds, command)
        case AllocateLine():
            return _each(stock, holds, _allocated)
        case RecordShortPick() | RecordShipment() if command.wms_id is not None:
            return _off_shelf(stock, holds, command)
        case RecordShortPick() | RecordShipment() if command.after_cancel and not holds:
            return _gone_after_cancel(stock, command)
        case RecordShortPick():
            return _take_out(stock, holds, command, command.short, "short_exceeds_allocation")
        case RecordShipment():
            return _take_out(stock, holds, command, command.qty, "shipment_exceeds_allocation")
        case Deallocate():
            return _each(stock, holds, _deallocated)
        case FillBackorder():
            return _fill_backorder(stock, holds, command)
        case _:
            assert_never(command)


def answers_again(stock: SkuStock, holds: LineHolds, message: StockInboxMessage) -> Answers:
    """A re-sent reserve or fill's answer (same id) as the line stands: the first may be lost."""
    if message.sku != stock.sku:
        return ()
    if isinstance(message, ReserveLine):
        return (_answer(stock, holds, message),)
    if isinstance(message, FillBackorder):
        fills = tuple(
            Fill(hold.warehouse, n)
            for hold in holds
            for e, n in hold.filled
            if e == message.event_id
        )
        return (_filled(message, fills),)
    return ()


def _reserve(stock: SkuStock, holds: LineHolds, command: ReserveLine) -> LineOutcome:
    """Hold the line where sourcing finds ATP for it, once per line; answer either way."""
    if holds:
        return LineOutcome(holds, answers=(_answer(stock, holds, command),))
    fills = fill_line(stock, command.qty, command.warehouse, command.partial)
    held = tuple(
        Reservation(
            command.order_id,
            command.line_no,
            p.warehouse,
            reserved=n,
            allocated=0,
            submitted_at=command.submitted_at,
        )
        for p, n in fills
    )
    positions = tuple(replace(p, reserved=p.reserved + n) for p, n in fills)
    return LineOutcome(held, positions, (_answer(stock, held, command),))


def _fill_backorder(stock: SkuStock, holds: LineHolds, command: FillBackorder) -> LineOutcome:
    """Hold what ATP there is for the line's newly backordered units, beside what it holds."""
    fills = fill_line(stock, command.qty, command.warehouse, True, last=command.short_at)
    added = {p.warehouse: n for p, n in fills}
    kept = tuple(
        added_to_hold(hold, added.pop(hold.warehouse, 0), command.event_id) for hold in holds
    )
    new = tuple(
        added_to_hold(
            Reservation(
                command.order_id, command.line_no, wh, 0, 0, submitted_at=command.submitted_at
            ),
            n,
            command.event_id,
        )
        for wh, n in added.items()
    )
    positions = tuple(replace(p, reserved=p.reserved + n) for p, n in fills)
    answer = _filled(command, tuple(Fill(p.warehouse, n) for p, n in fills))
    return LineOutcome((*kept, *new), positions, (answer,))


def added_to_hold(hold: Reservation, qty: int, event_id: str) -> Reservation:
    """The hold with `qty` more reserved by the fill `event_id` (none: unchanged)."""
    if not qty:
        return hold
    return replace(hold, reserved=hold.reserved + qty, filled=(*hold.filled, (event_id, qty)))


def _filled(command: FillBackorder, fills: tuple[Fill, ...]) -> BackorderFilled:
    """The answer to a FillBackorder; its id derives from the command's, so replays repeat it."""
    return BackorderFilled(**_reply_to(command), fills=fills)


Step = Callable[[Reservation, Position], tuple[Reservation, Position]]
"""A hold and its position, both as a command leaves them."""


def _each(stock: SkuStock, holds: LineHolds, step: Step) -> LineOutcome:
    """Apply `step` to every hold of the line; holds left empty are dropped."""
    stepped = [step(hold, position_at(stock, hold.warehouse)) for hold in holds]
    kept = tuple(hold for hold, _ in stepped if hold.reserved or hold.allocated)
    return LineOutcome(kept, tuple(position for _, position in stepped))


def _released(hold: Reservation, position: Position) -> tuple[Reservation, Position]:
    """Give back what the hold has reserved; its allocation, if any, stays."""
    return (
        replace(hold, reserved=0),
        replace(position, reserved=position.reserved - hold.reserved),
    )


def _allocated(hold: Reservation, position: Position) -> tuple[Reservation, Position]:
    """Turn what the hold has reserved into an allocation."""
    qty = hold.reserved
    return (
        replace(hold, reserved=0, allocated=hold.allocated + qty),
        replace(position, reserved=position.reserved - qty, allocated=position.allocated + qty),
    )


def _allocate(stock: SkuStock, holds: LineHolds, command: AllocateLine) -> LineOutcome:
    """Allocate what the order released at each warehouse, from its reservation there.

    Units the shelf took back while the release was on its way are allocated all the
    same: the WMS has them, and picks short what it does not find (`tables.stock.shelf`).
    Reserved units the release does not name stay reserved (a fill whose answer is on its
    way to the order: its own release allocates them). Once per hold (`steps`).
    """
    after = list(holds)
    positions: list[Position] = []
    for fill in command.fills:
        at = next((n for n, h in enumerate(after) if h.warehouse == fill.warehouse), None)
        hold = after[at] if at is not None else _empty_hold(command, fill.warehouse)
        if command.event_id in hold.steps:
            continue
        position = position_at(stock, fill.warehouse)
        held = min(fill.qty, hold.reserved)
        hold = replace(
            hold,
            reserved=hold.reserved - held,
            allocated=hold.allocated + fill.qty,
            steps=(*hold.steps, command.event_id),
        )
        positions.append(
            replace(
                position,
                reserved=position.reserved - held,
                allocated=position.allocated + fill.qty,
            )
        )
        if at is None:
            after.append(hold)
        else:
            after[at] = hold
    return LineOutcome(tuple(after), tuple(positions))


def _empty_hold(command: AllocateLine, warehouse: str) -> Reservation:
    """A hold of the line at `warehouse` holding nothing (the shelf took all of it back)."""
    return Reservation(command.order_id, command.line_no, warehouse, reserved=0, allocated=0)


def _deallocated(hold: Reservation, position: Position) -> tuple[Reservation, Position]:
    """Give back everything the hold still has, reserved or allocated."""
    return (
        replace(hold, reserved=0, allocated=0),
        replace(
            position,
            reserved=position.reserved - hold.reserved,
            allocated=position.allocated - hold.allocated,
        ),
    )


def _take_out(
    stock: SkuStock,
    holds: LineHolds,
    command: RecordShortPick | RecordShipment,
    qty: int,
    too_much: str,
) -> LineOutcome:
    """`qty` of the line's allocation there is gone (shipped, or never there): on_hand too."""
    hold = _hold_at(holds, command)
    if command.event_id in hold.steps:
        return LineOutcome(holds)  # a re-send: the hold remembers its steps
    position = position_at(stock, hold.warehouse)
    if qty > hold.allocated:
        raise InvalidStockChange(
            too_much, f"{qty} > {hold.allocated} allocated to {_line(command)}"
        )
    if qty > position.on_hand:
        where = f"on_hand {position.on_hand} in {hold.warehouse}"
        raise InvalidStockChange("negative_on_hand", f"{qty} of {_line(command)} out of {where}")
    taken = replace(hold, allocated=hold.allocated - qty, steps=(*hold.steps, command.event_id))
    kept = tuple(
        taken if h is hold else h
        for h in holds
        if h is not hold or taken.reserved or taken.allocated
    )
    return LineOutcome(
        kept,
        (
            replace(
                with_on_hand(position, position.on_hand - qty), allocated=position.allocated - qty
            ),
        ),
    )


def _off_shelf(
    stock: SkuStock, holds: LineHolds, command: RecordShortPick | RecordShipment
) -> LineOutcome:
    """The WMS line's effect, if the bridge's own event for it has not applied it first."""
    if command.warehouse is None or command.wms_id is None:
        raise InvalidStockChange("unknown_allocation", _line(command) + " names no warehouse")
    kind: ShelfKind = "shipped" if isinstance(command, RecordShipment) else "short"
    qty = command.qty if isinstance(command, RecordShipment) else command.short
    kept, position = off_shelf(stock, holds, command.warehouse, qty, kind, command.wms_id)
    return LineOutcome(kept, (position,))


def _hold_at(holds: LineHolds, command: RecordShortPick | RecordShipment) -> Reservation:
    """The line's hold in the command's warehouse (a command naming none: the line's only one)."""
    found = [h for h in holds if command.warehouse in (None, h.warehouse)]
    if len(found) != 1:
        where = "" if command.warehouse is None else f" in {command.warehouse}"
        raise InvalidStockChange(
            "unknown_allocation", f"{_line(command)} holds no allocation{where}"
        )
    return found[0]


def _gone_after_cancel(stock: SkuStock, command: RecordShortPick | RecordShipment) -> LineOutcome:
    """A cancelled line's goods left anyway: on_hand loses them, no allocation is touched.

    The warehouse picked short or shipped before it read the Cancel; the physical fact
    stands, even where the freed units were promised again meanwhile.
    """
    qty = command.short if isinstance(command, RecordShortPick) else command.qty
    if command.warehouse is None:
        raise InvalidStockChange("unknown_allocation", _line(command) + " names no warehouse")
    position = position_at(stock, command.warehouse)
    if qty > position.on_hand:
        where = f"on_hand {position.on_hand} in {command.warehouse}"
        raise InvalidStockChange("negative_on_hand", f"{qty} of {_line(command)} out of {where}")
    return LineOutcome((), (with_on_hand(position, position.on_hand - qty),))


def _answer(stock: SkuStock, holds: LineHolds, command: ReserveLine) -> ReservationAnswerMessage:
    """The answer to a ReserveLine; its id derives from the command's, so replays repeat it."""
    if holds:
        fills = tuple(Fill(h.warehouse, h.reserved + h.allocated) for h in holds)
        whole = len(fills) == 1 and fills[0].qty == command.qty
        return LineReserved(
            **_reply_to(command), warehouse=holds[0].warehouse, fills=() if whole else fills
        )
    return LineUnreservable(**_reply_to(command), atp=best_atp(stock, command.warehouse))


def _reply_to(command: ReserveLine | FillBackorder) -> dict[str, Any]:
    """What an answer repeats of its command; the id derives from its id, so replays repeat it."""
    return {
        "event_id": f"{command.event_id}:answer",
        "order_id": command.order_id,
        "line_no": command.line_no,
        "sku": command.sku,
        "qty": command.qty,
        "correlation_id": command.correlation_id,
    }


def _line(command: StockCommand) -> str:
    """How an error names the order line."""
    return f"order {command.order_id} line {command.line_no}"

"""Order lines' commands on a SKU's stock: reserve, release, allocate, short pick, ship, cancel.

Each line keeps one record (a row beside the SKU's value), so a command that sets the
line's hold (reserve, release, allocate, deallocate) is idempotent by construction, and
the deltas (short pick, shipment) remember their event ids on the record. No rule ever reserves
more than the ATP, and none drives a figure below zero.
"""

from typing import assert_never

import msgspec
from msgspec.structs import replace

from protocols.reservations import (
    AllocateLine,
    Deallocate,
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
from tables.atp import best_atp, source_line
from tables.errors import InvalidStockChange
from tables.stock_value import (
    Position,
    Reservation,
    SkuStock,
    position_at,
    with_on_hand,
)

Answers = tuple[ReservationAnswerMessage, ...]


class LineOutcome(msgspec.Struct, frozen=True):
    """What one order line's command does to a SKU's stock."""

    record: Reservation | None  # the line's record afterwards (None: it holds nothing)
    position: Position | None = None  # the one position rewritten, if any
    answers: Answers = ()


def apply_command(
    stock: SkuStock, record: Reservation | None, command: StockCommandMessage
) -> LineOutcome:
    """Dispatch to the rule for the command's type, given the line's current record."""
    match command:
        case ReserveLine():
            return _reserve(stock, record, command)
        case ReleaseReservation():
            return _release(stock, record)
        case AllocateLine():
            return _allocate(stock, record)
        case RecordShortPick() | RecordShipment() if command.after_cancel and record is None:
            return _gone_after_cancel(stock, command)
        case RecordShortPick():
            return _take_out(stock, record, command, command.short, "short_exceeds_allocation")
        case RecordShipment():
            return _take_out(stock, record, command, command.qty, "shipment_exceeds_allocation")
        case Deallocate():
            return _deallocate(stock, record)
        case _:
            assert_never(command)


def answers_again(
    stock: SkuStock, record: Reservation | None, message: StockInboxMessage
) -> Answers:
    """A redelivered ReserveLine's answer (same id) as the line stands: the first may be lost."""
    if not isinstance(message, ReserveLine) or message.sku != stock.sku:
        return ()
    return (_answer(stock, record, message),)


def _reserve(stock: SkuStock, record: Reservation | None, command: ReserveLine) -> LineOutcome:
    """Hold `qty` where sourcing finds ATP for it, once per line; answer either way."""
    position = None if record is not None else source_line(stock, command.qty, command.warehouse)
    if position is None:
        return LineOutcome(record, answers=(_answer(stock, record, command),))
    held = Reservation(
        command.order_id, command.line_no, position.warehouse, reserved=command.qty, allocated=0
    )
    return LineOutcome(
        held,
        replace(position, reserved=position.reserved + command.qty),
        (_answer(stock, held, command),),
    )


def _release(stock: SkuStock, record: Reservation | None) -> LineOutcome:
    """Give back what the line holds reserved; its allocation, if any, stays."""
    if record is None or record.reserved == 0:
        return LineOutcome(record)
    position = position_at(stock, record.warehouse)
    return _settle(
        replace(record, reserved=0),
        replace(position, reserved=position.reserved - record.reserved),
    )


def _allocate(stock: SkuStock, record: Reservation | None) -> LineOutcome:
    """Turn what the line holds reserved into an allocation."""
    if record is None or record.reserved == 0:
        return LineOutcome(record)
    position, qty = position_at(stock, record.warehouse), record.reserved
    return _settle(
        replace(record, reserved=0, allocated=record.allocated + qty),
        replace(position, reserved=position.reserved - qty, allocated=position.allocated + qty),
    )


def _take_out(
    stock: SkuStock, record: Reservation | None, command: StockCommand, qty: int, too_much: str
) -> LineOutcome:
    """`qty` of the line's allocation is gone (shipped, or never there): on_hand loses it too."""
    if record is None:
        raise InvalidStockChange("unknown_allocation", _line(command) + " holds no allocation")
    if command.event_id in record.steps:
        return LineOutcome(record)  # a re-send: the line remembers its steps
    position = position_at(stock, record.warehouse)
    if qty > record.allocated:
        raise InvalidStockChange(
            too_much, f"{qty} > {record.allocated} allocated to {_line(command)}"
        )
    if qty > position.on_hand:
        where = f"on_hand {position.on_hand} in {record.warehouse}"
        raise InvalidStockChange("negative_on_hand", f"{qty} of {_line(command)} out of {where}")
    return _settle(
        replace(record, allocated=record.allocated - qty, steps=(*record.steps, command.event_id)),
        replace(with_on_hand(position, position.on_hand - qty), allocated=position.allocated - qty),
    )


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
    return LineOutcome(None, with_on_hand(position, position.on_hand - qty))


def _deallocate(stock: SkuStock, record: Reservation | None) -> LineOutcome:
    """Give back everything the line still holds, reserved or allocated."""
    if record is None:
        return LineOutcome(record)
    position = position_at(stock, record.warehouse)
    return _settle(
        replace(record, reserved=0, allocated=0),
        replace(
            position,
            reserved=position.reserved - record.reserved,
            allocated=position.allocated - record.allocated,
        ),
    )


def _settle(record: Reservation, position: Position) -> LineOutcome:
    """The line's new record (dropped once it holds nothing) with its rewritten position."""
    kept = record if record.reserved or record.allocated else None
    return LineOutcome(kept, position)


def _answer(
    stock: SkuStock, record: Reservation | None, command: ReserveLine
) -> ReservationAnswerMessage:
    """The answer to a ReserveLine; its id derives from the command's, so replays repeat it."""
    if record is not None:
        return LineReserved(
            event_id=f"{command.event_id}:answer",
            order_id=command.order_id,
            line_no=command.line_no,
            sku=command.sku,
            qty=command.qty,
            correlation_id=command.correlation_id,
            warehouse=record.warehouse,
        )
    return LineUnreservable(
        event_id=f"{command.event_id}:answer",
        order_id=command.order_id,
        line_no=command.line_no,
        sku=command.sku,
        qty=command.qty,
        correlation_id=command.correlation_id,
        atp=best_atp(stock, command.warehouse),
    )


def _line(command: StockCommand) -> str:
    """How an error names the order line."""
    return f"order {command.order_id} line {command.line_no}"

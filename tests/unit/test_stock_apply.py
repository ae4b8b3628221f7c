"""The stock transition `apply`: every rule with numbers, dedupe, invalid changes, events."""

import datetime as dt

import msgspec
import pytest

from protocols.erp import ExpectedReceipt, ExpectedReceiptCancelled, SafetyStockSet
from protocols.inventory import (
    StockAdjusted,
    StockChanged,
    StockCounted,
    StockHoldChanged,
    StockReceived,
)
from protocols.topics import StockInboxMessage
from tables.errors import DomainError, InvalidStockChange
from tables.stock.apply import Applied, apply
from tables.stock.batch import decode_stock, encode_stock
from tables.stock.value import IncomingSupply, Position, SkuStock
from tests.support.tables import StockTable

SKU = "SKU-1"
EAST, WEST, NORTH = "DC-EAST", "DC-WEST", "DC-NORTH"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
MAY_1, MAY_9 = dt.date(2026, 5, 1), dt.date(2026, 5, 9)


def received(qty: int, wh: str = EAST, po: str | None = None, eid: str = "e") -> StockReceived:
    return StockReceived(event_id=eid, sku=SKU, warehouse=wh, occurred_at=NOW, qty=qty, po_id=po)


def adjusted(delta: int, wh: str = EAST, eid: str = "e") -> StockAdjusted:
    return StockAdjusted(event_id=eid, sku=SKU, warehouse=wh, occurred_at=NOW, delta=delta)


def held(delta: int, wh: str = EAST, eid: str = "e") -> StockHoldChanged:
    return StockHoldChanged(event_id=eid, sku=SKU, warehouse=wh, occurred_at=NOW, delta=delta)


def counted(on_hand: int, wh: str = EAST, eid: str = "e") -> StockCounted:
    return StockCounted(event_id=eid, sku=SKU, warehouse=wh, occurred_at=NOW, on_hand=on_hand)


def safety(qty: int, wh: str = EAST, eid: str = "e") -> SafetyStockSet:
    return SafetyStockSet(event_id=eid, sku=SKU, warehouse=wh, qty=qty)


def expected(po: str, qty: int, eta: dt.date, wh: str = EAST, eid: str = "e") -> ExpectedReceipt:
    return ExpectedReceipt(event_id=eid, po_id=po, sku=SKU, warehouse=wh, qty=qty, eta=eta)


def cancelled(po: str, wh: str = EAST, eid: str = "e") -> ExpectedReceiptCancelled:
    return ExpectedReceiptCancelled(event_id=eid, po_id=po, sku=SKU, warehouse=wh)


def stock_of(*positions: Position, last_offset: int = 9) -> SkuStock:
    return SkuStock(sku=SKU, positions=positions, last_offset=last_offset, version=3)


def step(stock: SkuStock, message: StockInboxMessage) -> Applied:
    """Deliver `message` at the next offset."""
    return apply(stock, message, stock.last_offset + 1, NOW)


def only(stock: SkuStock) -> Position:
    (position,) = stock.positions
    return position


# --- the rules, with numbers ------------------------------------------------------------


def test_receipt_creates_the_position_and_adds_to_on_hand() -> None:
    # Given a SKU never seen in any warehouse
    stock = SkuStock(sku=SKU)
    # When 50 arrive in DC-EAST
    result = step(stock, received(50))
    # Then DC-EAST holds 50, all of it available
    assert only(result.stock) == Position(warehouse=EAST, on_hand=50)
    assert only(result.stock).atp == 50


def test_receipt_with_po_shrinks_that_expected_receipt() -> None:
    stock = stock_of(Position(EAST, on_hand=10, incoming=(IncomingSupply("PO-9", 30, MAY_1),)))
    result = step(stock, received(12, po="PO-9"))
    assert only(result.stock).on_hand == 22
    assert only(result.stock).incoming == (IncomingSupply("PO-9", 18, MAY_1),)


@pytest.mark.parametrize("qty", [30, 35])
def test_receipt_covering_the_po_removes_the_expected_receipt(qty: int) -> None:
    stock = stock_of(Position(EAST, on_hand=10, incoming=(IncomingSupply("PO-9", 30, MAY_1),)))
    result = step(stock, received(qty, po="PO-9"))
    assert only(result.stock) == Position(EAST, on_hand=10 + qty, received=(("PO-9", qty),))


def test_receipt_leaves_the_other_pos_of_the_warehouse_alone() -> None:
    po_8, po_9 = IncomingSupply("PO-8", 10, MAY_1), IncomingSupply("PO-9", 30, MAY_9)
    stock = stock_of(Position(EAST, incoming=(po_8, po_9)))
    result = step(stock, received(30, po="PO-9"))
    assert only(result.stock) == Position(
        EAST, on_hand=30, incoming=(po_8,), received=(("PO-9", 30),)
    )


def test_receipt_leaves_the_po_expected_at_another_warehouse_alone() -> None:
    west_po = Position(WEST, incoming=(IncomingSupply("PO-9", 30, MAY_1),))
    stock = stock_of(Position(EAST), west_po)
    result = step(stock, received(5, wh=EAST, po="PO-9"))
    assert result.stock.position(EAST) == Position(EAST, on_hand=5, received=(("PO-9", 5),))
    assert result.stock.position(WEST) == west_po


def test_a_po_sent_again_expects_only_what_has_not_arrived() -> None:
    # Given PO-9 for 50, of which 30 arrived
    stock = stock_of(Position(EAST))
    stock = step(stock, expected("PO-9", 50, MAY_1)).stock
    stock = step(stock, received(30, po="PO-9")).stock
    assert only(stock).incoming == (IncomingSupply("PO-9", 20, MAY_1),)
    # When ERP sends the PO again with a new ETA
    stock = step(stock, expected("PO-9", 50, MAY_9)).stock
    # Then 20 are still expected, at the new date
    assert only(stock).incoming == (IncomingSupply("PO-9", 20, MAY_9),)
    # And once all 50 arrived, sending it again expects nothing
    stock = step(stock, received(20, po="PO-9")).stock
    stock = step(stock, expected("PO-9", 50, MAY_9)).stock
    assert only(stock).incoming == ()
    # And a cancelled PO forgets what it received
    stock = step(stock, cancelled("PO-9")).stock
    assert only(stock).received == ()


def test_adjust_adds_the_signed_delta() -> None:
    stock = stock_of(Position(EAST, on_hand=50))
    assert only(step(stock, adjusted(-3)).stock).on_hand == 47
    assert only(step(stock, adjusted(4)).stock).on_hand == 54


def test_adjust_below_zero_is_invalid() -> None:
    stock = stock_of(Position(EAST, on_hand=2))
    with pytest.raises(InvalidStockChange) as raised:
        step(stock, adjusted(-3))
    assert raised.value.reason == "negative_on_hand"


def test_adjust_below_blocked_stock_reduces_blocked_with_it() -> None:
    # Given 10 on hand of which 5 are blocked for QC
    stock = stock_of(Position(EAST, on_hand=10, blocked=5))
    # When the WMS writes off 7 as damaged
    result = step(stock, adjusted(-7))
    # Then the 3 left can be blocked at most
    assert only(result.stock) == Position(EAST, on_hand=3, blocked=3)


def test_count_sets_on_hand_to_the_counted_figure() -> None:
    stock = stock_of(Position(EAST, on_hand=50, blocked=2))
    assert only(step(stock, counted(47)).stock) == Position(EAST, on_hand=47, blocked=2)


def test_count_below_blocked_stock_reduces_blocked_with_it() -> None:
    stock = stock_of(Position(EAST, on_hand=50, blocked=8))
    assert only(step(stock, counted(6)).stock) == Position(EAST, on_hand=6, blocked=6)


def test_hold_blocks_and_releases_stock() -> None:
    stock = stock_of(Position(EAST, on_hand=20, blocked=4))
    assert only(step(stock, held(5)).stock).blocked == 9
    assert only(step(stock, held(-4)).stock).blocked == 0
    assert only(step(stock, held(16)).stock).blocked == 20


@pytest.mark.parametrize(
    ("delta", "reason"), [(17, "hold_exceeds_on_hand"), (-5, "negative_blocked")]
)
def test_hold_outside_zero_to_on_hand_is_invalid(delta: int, reason: str) -> None:
    stock = stock_of(Position(EAST, on_hand=20, blocked=4))
    with pytest.raises(InvalidStockChange) as raised:
        step(stock, held(delta))
    assert raised.value.reason == reason


def test_safety_stock_set_replaces_the_figure_and_lowers_atp() -> None:
    stock = stock_of(Position(EAST, on_hand=20, blocked=2, reserved=3, allocated=4, safety_stock=1))
    position = only(step(stock, safety(6)).stock)
    assert position.safety_stock == 6
    assert position.atp == 20 - 2 - 3 - 4 - 6


def test_atp_is_the_formula_and_never_negative() -> None:
    assert Position(EAST, on_hand=10, blocked=1, reserved=2, allocated=3, safety_stock=1).atp == 3
    assert Position(EAST, on_hand=5, reserved=4, safety_stock=3).atp == 0
    assert Position(EAST, on_hand=5, reserved=4, safety_stock=3).net_available == -2


def test_expected_receipts_are_kept_in_eta_then_po_order() -> None:
    stock = SkuStock(sku=SKU)
    for message in (
        expected("PO-3", 5, MAY_9, eid="x-1"),
        expected("PO-2", 5, MAY_1, eid="x-2"),
        expected("PO-1", 5, MAY_9, eid="x-3"),
    ):
        stock = step(stock, message).stock
    assert [s.po_id for s in only(stock).incoming] == ["PO-2", "PO-1", "PO-3"]


def test_expected_receipt_is_upserted_by_po() -> None:
    stock = stock_of(Position(EAST, incoming=(IncomingSupply("PO-9", 30, MAY_1),)))
    result = step(stock, expected("PO-9", 12, MAY_9))
    assert only(result.stock).incoming == (IncomingSupply("PO-9", 12, MAY_9),)


def test_expected_receipt_moves_the_po_to_its_new_warehouse() -> None:
    # Given PO-9 expected at DC-EAST
    stock = stock_of(Position(EAST, on_hand=4, incoming=(IncomingSupply("PO-9", 30, MAY_1),)))
    # When ERP re-plans it to DC-WEST
    result = step(stock, expected("PO-9", 30, MAY_9, wh=WEST))
    # Then only DC-WEST expects it, and both positions are announced
    assert result.stock.position(EAST) == Position(EAST, on_hand=4)
    assert result.stock.position(WEST) == Position(
        WEST, incoming=(IncomingSupply("PO-9", 30, MAY_9),)
    )
    assert [c.warehouse for c in result.changes] == [EAST, WEST]


def test_cancelled_expected_receipt_is_removed_wherever_it_is() -> None:
    stock = stock_of(Position(WEST, incoming=(IncomingSupply("PO-9", 30, MAY_1),)))
    result = step(stock, cancelled("PO-9", wh=WEST))
    assert only(result.stock) == Position(WEST)
    assert [c.warehouse for c in result.changes] == [WEST]


def test_cancelling_an_unknown_po_is_recorded_but_changes_nothing() -> None:
    stock = stock_of(Position(EAST, on_hand=4))
    result = apply(stock, cancelled("PO-404", wh=WEST, eid="c1"), 10, NOW)
    assert result.stock.positions == stock.positions  # no DC-WEST position appears
    assert result.changes == ()
    assert not result.duplicate
    assert (result.stock.last_offset, result.stock.version) == (10, 4)


def test_a_message_for_another_sku_is_invalid() -> None:
    with pytest.raises(InvalidStockChange) as raised:
        step(SkuStock(sku="SKU-2"), received(5))
    assert raised.value.reason == "sku_mismatch"


def test_positions_are_kept_in_warehouse_code_order() -> None:
    stock = SkuStock(sku=SKU)
    for wh in (WEST, EAST, NORTH):
        stock = step(stock, received(1, wh=wh, eid=f"r-{wh}")).stock
    assert [p.warehouse for p in stock.positions] == [EAST, NORTH, WEST]


# --- exactly once ----------------------------------------------------------------------


def test_applied_message_advances_offset_and_version_and_remembers_its_id() -> None:
    table = StockTable.holding(stock_of(Position(EAST, on_hand=1), last_offset=41))
    table.deliver(received(2, eid="r-7"), 42)
    assert (table.stock.last_offset, table.stock.version) == (42, 4)
    assert table.has_seen("r-7")


def test_redelivery_at_an_applied_offset_is_a_duplicate() -> None:
    stock = stock_of(Position(EAST, on_hand=1), last_offset=41)
    for offset in (41, 7):
        result = apply(stock, received(2, eid="new"), offset, NOW)
        assert result == Applied(stock=stock, changes=(), duplicate=True)


def test_an_id_the_sku_applied_is_a_duplicate() -> None:
    stock = apply(SkuStock(sku=SKU), received(2, eid="r-1"), 0, NOW).stock
    again = apply(stock, received(2, eid="r-1"), 5, NOW, seen=True)
    assert again == Applied(stock=stock, changes=(), duplicate=True)


def test_resend_with_a_known_event_id_at_a_new_offset_is_a_duplicate() -> None:
    # Given a receipt of 2 applied at offset 0
    table = StockTable(SKU)
    table.deliver(received(2, eid="r-1"), 0)
    first = table.stock
    # When the WMS publishes it again, at offset 5
    again = table.deliver(received(2, eid="r-1"), 5)
    # Then it is a duplicate and nothing moved
    assert again == Applied(stock=first, changes=(), duplicate=True)
    assert table.stock == first


def test_a_resend_is_a_duplicate_however_many_events_came_between() -> None:
    # Given a receipt of 5, then 1,000 other receipts of 1 on the SKU
    table = StockTable(SKU)
    table.send(received(5, eid="r-first"))
    for n in range(1_000):
        table.send(received(1, wh=WEST, eid=f"r-{n}"))
    # When the first receipt is published again at a new offset
    again = table.send(received(5, eid="r-first"))
    # Then it changes nothing: DC-EAST counts the 5 once
    assert again.duplicate
    assert again.changes == ()
    assert table.stock.position(EAST) == Position(EAST, on_hand=5)
    assert table.stock.version == 1_001


def test_replay_without_offset_dedupes_by_id_and_keeps_last_offset() -> None:
    # Given a receipt of 2 applied at offset 30
    table = StockTable(SKU)
    table.deliver(received(2, eid="r-1"), 30)
    # When dead letters are replayed from outside the topic (no offset)
    replayed_again = table.deliver(received(2, eid="r-1"), None)
    replayed_new = table.deliver(received(3, eid="r-2"), None)
    # Then the applied id is a duplicate, the new one applies, and the offset stays at 30
    assert isinstance(replayed_again, Applied)
    assert replayed_again.duplicate
    assert isinstance(replayed_new, Applied)
    assert not replayed_new.duplicate
    assert (only(table.stock).on_hand, table.stock.last_offset) == (5, 30)


def test_invalid_change_records_nothing_so_the_offset_and_id_stay_free() -> None:
    # Given 2 on hand
    table = StockTable.holding(stock_of(Position(EAST, on_hand=2), last_offset=9))
    # When a hold of 5 is refused at offset 10
    assert table.refused(held(5, eid="h-1"), 10) == "hold_exceeds_on_hand"
    # Then the same offset and event id still apply once the stock is there
    table.deliver(received(3, eid="r-1"), 10)
    result = table.deliver(held(5, eid="h-1"), 11)
    assert isinstance(result, Applied)
    assert not result.duplicate
    assert only(table.stock) == Position(EAST, on_hand=5, blocked=5)


def test_no_figure_changed_is_still_recorded_as_applied() -> None:
    stock = stock_of(Position(EAST, on_hand=7))
    result = step(stock, counted(7, eid="c-1"))
    assert result.changes == ()
    assert not result.duplicate
    assert result.stock.version == stock.version + 1


# --- StockChanged -----------------------------------------------------------------------


def test_stock_changed_only_for_the_changed_position_with_its_figures() -> None:
    # Given three warehouses
    east = Position(EAST, on_hand=10, blocked=1, reserved=2, allocated=3, safety_stock=1)
    stock = stock_of(east, Position(NORTH, on_hand=5), Position(WEST, on_hand=9))
    # When 4 arrive in DC-EAST
    result = step(stock, received(4, eid="r-1"))
    # Then one event, for DC-EAST, with its new figures
    assert result.changes == (
        StockChanged(
            event_id=f"r-1:{EAST}",
            sku=SKU,
            warehouse=EAST,
            on_hand=14,
            blocked=1,
            reserved=2,
            allocated=3,
            safety_stock=1,
            atp=7,
            cause="StockReceived",
            occurred_at=NOW,
        ),
    )


def test_stock_changed_names_the_message_type_as_cause() -> None:
    stock = stock_of(Position(EAST, on_hand=10))
    causes = [step(stock, m).changes[0].cause for m in (adjusted(1), held(1), safety(1))]
    assert causes == ["StockAdjusted", "StockHoldChanged", "SafetyStockSet"]


def test_stock_changed_ids_are_the_same_when_replayed() -> None:
    stock = stock_of(Position(EAST, on_hand=10))
    first = apply(stock, adjusted(-1, eid="a-1"), 10, NOW)
    replayed = apply(stock, adjusted(-1, eid="a-1"), None, NOW + dt.timedelta(hours=1))
    assert [c.event_id for c in first.changes] == [c.event_id for c in replayed.changes]


def test_a_new_position_with_nothing_in_it_is_not_announced() -> None:
    result = step(SkuStock(sku=SKU), counted(0))
    assert only(result.stock) == Position(EAST)
    assert result.changes == ()


# --- the value on the wire --------------------------------------------------------------


def test_table_value_round_trips_through_msgpack() -> None:
    stock = stock_of(
        Position(EAST, on_hand=10, blocked=1, incoming=(IncomingSupply("PO-9", 30, MAY_1),)),
        Position(WEST, reserved=2),
    )
    assert decode_stock(encode_stock(stock)) == stock


def test_inbox_decodes_wms_and_erp_messages_from_one_topic() -> None:
    decoder = msgspec.json.Decoder(StockInboxMessage)
    wms = b'{"type":"StockCounted","event_id":"c","sku":"S","warehouse":"W",'
    wms += b'"occurred_at":"2026-03-02T09:30:00Z","on_hand":4}'
    erp = (
        b'{"type":"ExpectedReceiptCancelled","event_id":"x","po_id":"P","sku":"S","warehouse":"W"}'
    )
    assert isinstance(decoder.decode(wms), StockCounted)
    assert isinstance(decoder.decode(erp), ExpectedReceiptCancelled)


def test_invalid_stock_change_is_a_domain_error_with_reason_and_detail() -> None:
    error = InvalidStockChange("negative_on_hand", "adjust -3 on on_hand 2")
    assert isinstance(error, DomainError)
    assert (error.reason, error.detail) == ("negative_on_hand", "adjust -3 on on_hand 2")
    assert str(error) == "negative_on_hand: adjust -3 on on_hand 2"

"""A SKU value stored by the first release (lines and recent ids inside) upgrades on first touch."""

import msgspec

from protocols.inventory import StockReceived
from protocols.reservations import ReleaseReservation
from tables.keys import value_key
from tables.stock.batch import StoredSkuStock
from tables.stock.value import Position, Reservation
from tests.support.tables import NOW, DictRows, StockTable

SKU = "SKU-1"


def first_release_value() -> bytes:
    """What the first release stored: 4 reserved for O-1 line 1, a receipt id remembered."""
    return msgspec.msgpack.encode(
        StoredSkuStock(
            sku=SKU,
            positions=(Position("DC-EAST", on_hand=10, reserved=4),),
            last_offset=7,
            version=3,
            reservations=(Reservation("O-1", 1, "DC-EAST", reserved=4, allocated=0),),
            recent_event_ids=("wms:DC-EAST:R-1:1",),
        )
    )


def test_an_old_value_keeps_its_holds_and_its_dedupe() -> None:
    # Given a SKU value as the first release stored it
    rows = DictRows({value_key(SKU): first_release_value()})
    table = StockTable(SKU, rows=rows)
    # When its order line's reservation is released
    table.send(ReleaseReservation(event_id="O-1:1:release", sku=SKU, order_id="O-1", line_no=1))
    # Then the hold it carried inside is released, and the line holds nothing any more
    assert table.stock.positions == (Position("DC-EAST", on_hand=10, reserved=0),)
    assert table.lines == ()
    # And the receipt it remembered is still a duplicate when re-sent
    again = StockReceived(
        event_id="wms:DC-EAST:R-1:1", sku=SKU, warehouse="DC-EAST", occurred_at=NOW, qty=5
    )
    assert table.send(again).duplicate
    assert table.stock.positions[0].on_hand == 10

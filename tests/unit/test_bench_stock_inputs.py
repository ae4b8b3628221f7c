"""The stock benches' inputs and rule: the raw projection baseline, and the hot SKU's lines."""

import asyncio
import datetime as dt

import msgspec

from bench.common.acks import Outstanding
from bench.stock.engine import Values, project
from bench.stock.hotsku import reserve_lines
from protocols.inventory import StockAdjusted, StockReceived
from protocols.reservations import ReserveLine
from protocols.topics import StockInboxMessage

AT = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def test_the_baseline_applies_the_agents_rule_once_per_record() -> None:
    values: Values = {}
    receipt = StockReceived(event_id="e1", sku="A", warehouse="DC-EAST", occurred_at=AT, qty=5)
    changes = project(values, receipt, offset=0)
    assert [(c.sku, c.warehouse, c.on_hand, c.atp) for c in changes] == [("A", "DC-EAST", 5, 5)]
    # a redelivered record changes nothing and publishes nothing
    assert project(values, receipt, offset=0) == ()
    assert values["A"].positions[0].on_hand == 5


def test_an_invalid_change_publishes_nothing_and_keeps_the_value() -> None:
    values: Values = {}
    too_much = StockAdjusted(event_id="e2", sku="B", warehouse="DC-EAST", occurred_at=AT, delta=-1)
    assert project(values, too_much, offset=3) == ()
    assert "B" not in values


async def test_an_event_is_done_only_when_every_output_is_acknowledged() -> None:
    loop = asyncio.get_running_loop()
    outstanding = Outstanding()
    first, second, lost = loop.create_future(), loop.create_future(), loop.create_future()
    outstanding.track([first, second])
    outstanding.track([])  # an event with no outputs is done at once
    outstanding.track([lost])
    first.set_result(None)
    await asyncio.sleep(0)
    assert (outstanding.done, outstanding.failed) == (1, 0)
    second.set_result(None)
    lost.set_exception(RuntimeError("not acknowledged"))
    await asyncio.wait_for(outstanding.wait_settled(3), 1.0)
    assert (outstanding.done, outstanding.failed) == (2, 1)


def test_the_hot_skus_lines_are_reserve_commands_the_stock_agent_reads() -> None:
    commands = list(reserve_lines("t", ["HOT", "HOT", "COLD"]))
    decoded = [msgspec.json.decode(value, type=StockInboxMessage) for _, value in commands]
    assert [key for key, _ in commands] == [b"HOT", b"HOT", b"COLD"]
    assert all(isinstance(command, ReserveLine) and command.qty == 1 for command in decoded)
    assert len({(c.order_id, c.line_no) for c in decoded}) == 3  # one open line each
    assert len({c.event_id for c in decoded}) == 3

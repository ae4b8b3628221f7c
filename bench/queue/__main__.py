"""What a SKU's backorder queue costs each message of that SKU: `python -m bench.queue`.

Stock messages go through the stock table's own batch runner, one message per batch as a
busy partition delivers them, to a SKU with 0, 10, 100 ... lines of 1 waiting behind two
open POs of 50 (so the first 100 lines have a promise date). Two messages, each timed:
`count`, a count that finds what the books say (nothing the queue depends on changes),
and `fill`, a receipt of 1 unit that fills the oldest line (the queue changes and its
dates move on by one line); after each fill a new line joins at the back, untimed, so
the queue keeps its length. Prints JSON: microseconds per message for each message and
queue length, the median of `--runs` runs (lengths and messages alternating), and its
ratio to the same message on the SKU with no queue.
Usage: `python -m bench.queue [--waiting 0,10,100,1000] [--messages N] [--runs R]`.
"""

import argparse
import datetime as dt
import json
import statistics
import time

import msgspec

from protocols.erp import ExpectedReceipt
from protocols.inventory import StockCounted, StockHoldChanged, StockReceived
from protocols.reservations import ReserveLine
from protocols.topics import StockInboxMessage
from tables.batch import BatchRunner, Delivery, MemoryRows
from tables.keys import value_key
from tables.stock.apply import Applied
from tables.stock.batch import decode_stock, stock_batches

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
SKU, WAREHOUSE, ON_HAND = "SKU-BENCH", "DC-EAST", 10


def a_sku_with_a_queue(waiting: int) -> tuple[MemoryRows, int]:
    """The SKU's rows: all its stock on hold, two open POs, `waiting` lines of 1 waiting."""
    at = {"sku": SKU, "warehouse": WAREHOUSE}
    messages: list[StockInboxMessage] = [
        StockReceived(event_id="received", occurred_at=NOW, qty=ON_HAND, **at),
        StockHoldChanged(event_id="held", occurred_at=NOW, delta=ON_HAND, **at),
        *(
            ExpectedReceipt(
                event_id=f"po-{n}",
                po_id=f"PO-{n}",
                sku=SKU,
                warehouse=WAREHOUSE,
                qty=50,
                eta=NOW.date() + dt.timedelta(days=7 * n),
            )
            for n in (1, 2)
        ),
        *(a_line_waiting(n) for n in range(waiting)),
    ]
    rows = MemoryRows()
    runner = stock_batches(NOW)
    for offset, message in enumerate(messages):
        runner.run(rows, [_delivery(message, offset)])
    assert _waiting(rows) == waiting, "lines not waiting"
    return rows, len(messages)


def a_line_waiting(n: int) -> ReserveLine:
    """The n-th order's line of 1, backordered whole (nothing is free)."""
    return ReserveLine(
        event_id=f"SO-{n}:1:reserve",
        sku=SKU,
        order_id=f"SO-{n}",
        line_no=1,
        qty=1,
        partial=True,
        submitted_at=NOW + dt.timedelta(seconds=n),
        correlation_id="c",
    )


def a_count(n: int) -> StockCounted:
    """A count finding what the books say."""
    return StockCounted(
        event_id=f"count-{n}", sku=SKU, warehouse=WAREHOUSE, occurred_at=NOW, on_hand=ON_HAND
    )


def a_receipt(n: int) -> StockReceived:
    """One unit in, without a PO."""
    return StockReceived(event_id=f"in-{n}", sku=SKU, warehouse=WAREHOUSE, occurred_at=NOW, qty=1)


def count_us(waiting: int, messages: int) -> float:
    """Microseconds to apply a count that changes nothing, `waiting` lines in the queue."""
    rows, offset = a_sku_with_a_queue(waiting)
    runner = stock_batches(NOW)
    counts = [_delivery(a_count(n), offset + n) for n in range(messages)]
    started = time.perf_counter()
    for count in counts:
        runner.run(rows, [count])
    return (time.perf_counter() - started) / messages * 1e6


def fill_us(waiting: int, messages: int) -> float:
    """Microseconds to apply a receipt that fills the oldest of `waiting` lines (a new line
    joins after each, untimed; with no queue the receipt fills nothing)."""
    rows, offset = a_sku_with_a_queue(waiting)
    runner = stock_batches(NOW)
    spent = 0.0
    for n in range(messages):
        receipt = _delivery(a_receipt(n), offset)
        started = time.perf_counter()
        (outcome,) = runner.run(rows, [receipt])
        spent += time.perf_counter() - started
        offset += 1
        if waiting:
            assert isinstance(outcome, Applied), outcome
            assert outcome.answers, "no line filled"
            _apply(runner, rows, a_line_waiting(waiting + n), offset)
            offset += 1
    assert _waiting(rows) == waiting, "the queue changed its length"
    return spent / messages * 1e6


MESSAGES = {"count": count_us, "fill": fill_us}


def _apply(runner: BatchRunner[Applied], rows: MemoryRows, message: ReserveLine, at: int) -> None:
    (outcome,) = runner.run(rows, [_delivery(message, at)])
    assert isinstance(outcome, Applied), outcome


def _waiting(rows: MemoryRows) -> int:
    """Lines waiting (of 1 unit each) in the SKU's queue."""
    raw = rows.get(value_key(SKU))
    return 0 if raw is None else decode_stock(raw).queued


def _delivery(message: StockInboxMessage, offset: int) -> Delivery:
    """`message` as the stock inbox holds it."""
    return Delivery(offset, value_key(SKU), msgspec.json.encode(message))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.queue", description=__doc__)
    parser.add_argument("--waiting", default="0,10,100,1000")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lengths = [int(n) for n in args.waiting.split(",")]
    samples: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.runs):  # alternating, so the machine's noise hits each alike
        for n in lengths:
            for name, measure in MESSAGES.items():
                samples.setdefault((name, n), []).append(measure(n, args.messages))
    report: dict[str, dict[str, dict[str, float]]] = {}
    for name in MESSAGES:
        medians = {n: statistics.median(samples[name, n]) for n in lengths}
        base = medians[lengths[0]]
        report[name] = {
            str(n): {"us_per_message": round(us, 1), "ratio": round(us / base, 2)}
            for n, us in medians.items()
        }
    print(json.dumps({"waiting_lines": report, "runs": args.runs}, indent=2))


if __name__ == "__main__":
    main()

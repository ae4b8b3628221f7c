"""What a SKU's backorder queue costs each message of that SKU: `python -m bench.queue`.

The queue is one row holding every waiting line, and every message of a SKU with a queue
recomputes its promise dates. This applies the same stock message (a count that finds
what the books say, so nothing fills) through the stock table's own batch runner, one
message per batch as a busy partition delivers them, to a SKU with 0, 10, 100 ... lines
waiting behind two open POs. Prints JSON: microseconds per message for each queue
length, the median of `--runs` runs, and its ratio to the same SKU with no queue.
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
from tables.batch import Delivery, MemoryRows
from tables.keys import queue_key, value_key
from tables.stock.batch import decode_queue, stock_batches

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
        *(
            ReserveLine(
                event_id=f"SO-{n}:1:reserve",
                sku=SKU,
                order_id=f"SO-{n}",
                line_no=1,
                qty=1,
                partial=True,
                submitted_at=NOW + dt.timedelta(seconds=n),
                correlation_id="c",
            )
            for n in range(waiting)
        ),
    ]
    rows = MemoryRows()
    runner = stock_batches(NOW)
    for offset, message in enumerate(messages):
        runner.run(rows, [_delivery(message, offset)])
    queue = rows.get(queue_key(SKU))
    assert len(decode_queue(queue).entries if queue else ()) == waiting, "lines not waiting"
    return rows, len(messages)


def per_message_us(waiting: int, messages: int) -> float:
    """Microseconds to apply one count to the SKU, `waiting` lines in its queue."""
    rows, offset = a_sku_with_a_queue(waiting)
    runner = stock_batches(NOW)
    counts = [
        _delivery(
            StockCounted(
                event_id=f"count-{n}",
                sku=SKU,
                warehouse=WAREHOUSE,
                occurred_at=NOW,
                on_hand=ON_HAND,
            ),
            offset + n,
        )
        for n in range(messages)
    ]
    started = time.perf_counter()
    for count in counts:
        runner.run(rows, [count])
    return (time.perf_counter() - started) / messages * 1e6


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
    samples: dict[int, list[float]] = {n: [] for n in lengths}
    for _ in range(args.runs):  # alternating lengths, so the machine's noise hits each alike
        for n in lengths:
            samples[n].append(per_message_us(n, args.messages))
    medians = {n: statistics.median(s) for n, s in samples.items()}
    base = medians[lengths[0]]
    report = {
        str(n): {"us_per_message": round(us, 1), "ratio": round(us / base, 2)}
        for n, us in medians.items()
    }
    print(json.dumps({"waiting_lines": report, "runs": args.runs}, indent=2))


if __name__ == "__main__":
    main()

"""Memory of the API's order mirror with closed orders kept or retired: `python -m bench.mirror`.

Builds a 20-line order through its whole life with the order table's own rules (submit,
a reservation per line, ERP's confirmation, a pick, a shipment per line, the invoice),
stores N copies of it under distinct ids in a mirror fed by hand (no Kafka), and counts
with tracemalloc what the mirror holds once the records are gone: every order in memory
(`DISTGATE_CLOSED_ORDER_DAYS` not yet passed, as every closed order was before) against
every order retired (the days passed: only its place on the changelog stays). Prints
JSON: bytes per order for each, their ratio, the median of `--runs` runs.
Usage: `python -m bench.mirror [--orders N] [--runs R] [--lines L]`.
"""

import argparse
import datetime as dt
import gc
import json
import statistics
import time
import tracemalloc

from aiokafka import ConsumerRecord, TopicPartition
from msgspec.structs import replace

from app.broker_access import KafkaAccess
from app.read.replica import ChangelogReplica
from app.read.retirement import Retirement, RetirementPolicy
from protocols.erp import ErpOrderConfirmed, ErpOrderInvoiced
from protocols.http import OrderLineRequest
from protocols.order_commands import SubmitOrder
from protocols.reservations import LineReserved
from protocols.topics import OrderInboxMessage
from protocols.wms import NumberedLine, PickLine
from protocols.wms_events import PickConfirmed, ShipConfirmed
from tables.order.apply import apply
from tables.order.table import encode_order, is_closed_order
from tables.order.value import Order

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
WAREHOUSE = "DC-EAST"
TOPIC = "distgate-orders-changelog"
PARTITIONS = 8


def invoiced_order(lines: int) -> Order:
    """An order of `lines` lines taken from submit to INVOICED, one shipment per line."""
    oid, skus = "SO-BENCH", [f"SKU-{n:05d}" for n in range(1, lines + 1)]
    wanted = tuple(OrderLineRequest(n, sku, 2) for n, sku in enumerate(skus, 1))
    messages: list[OrderInboxMessage] = [
        SubmitOrder(
            event_id=f"{oid}:submit",
            order_id=oid,
            at=NOW,
            correlation_id="corr",
            customer_id="C-1",
            channel="b2b",
            lines=wanted,
            backorder="reject",
            digest="d",
        ),
        *(
            LineReserved(
                event_id=f"{oid}:{n}:reserve:answer",
                order_id=oid,
                line_no=n,
                sku=sku,
                qty=2,
                warehouse=WAREHOUSE,
            )
            for n, sku in enumerate(skus, 1)
        ),
        ErpOrderConfirmed(event_id="erp-confirm", order_id=oid),
        PickConfirmed(
            event_id=f"wms:{WAREHOUSE}:P-1",
            order_id=oid,
            warehouse=WAREHOUSE,
            txn="P-1",
            occurred_at=NOW,
            lines=tuple(PickLine(n, sku, 2, 2) for n, sku in enumerate(skus, 1)),
        ),
        *(
            ShipConfirmed(
                event_id=f"wms:{WAREHOUSE}:S-{n}",
                order_id=oid,
                warehouse=WAREHOUSE,
                txn=f"S-{n}",
                occurred_at=NOW,
                lines=(NumberedLine(n, sku, 2),),
                carrier="UPS",
                tracking=f"1Z{n:08d}",
            )
            for n, sku in enumerate(skus, 1)
        ),
        ErpOrderInvoiced(event_id="erp-invoice", order_id=oid, invoice_id="INV-1"),
    ]
    order = None
    for offset, message in enumerate(messages):
        order = apply(order, message, offset, NOW, False).order
    assert order is not None
    assert order.status == "INVOICED", order.status
    return order


def mirror_bytes_per_order(order: Order, orders: int, retire: bool) -> float:
    """What a mirror holds per order after taking `orders` copies of `order`, in bytes."""
    keep_ms = 0 if retire else 30 * 86_400_000
    retirement = Retirement(RetirementPolicy(keep_ms, is_closed_order))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    replica: ChangelogReplica[Order] = ChangelogReplica(
        "orders", TOPIC, PARTITIONS, KafkaAccess("127.0.0.1:1"), lambda raw: order, retirement
    )
    written = int(time.time() * 1000)  # just closed: only a retiring mirror lets it go
    for n in range(orders):
        key = f"SO-{n:08d}".encode()
        value = encode_order(replace(order, order_id=key.decode()))
        tp = TopicPartition(TOPIC, n % PARTITIONS)
        record = ConsumerRecord(
            topic=TOPIC,
            partition=tp.partition,
            offset=n,
            timestamp=written,
            timestamp_type=0,
            key=key,
            value=value,
            checksum=None,
            serialized_key_size=len(key),
            serialized_value_size=len(value),
            headers=(),
        )
        replica._apply({tp: [record]})
        del record, value
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(replica) + replica.retired == orders
    return held / orders


def main() -> None:
    """Run both modes `--runs` times and print the medians and their ratio as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.mirror", description=__doc__)
    parser.add_argument("--orders", type=int, default=5000, help="closed orders in the mirror")
    parser.add_argument("--runs", type=int, default=5, help="runs of each mode; medians")
    parser.add_argument("--lines", type=int, default=20, help="lines per order")
    args = parser.parse_args()
    order = invoiced_order(args.lines)
    kept = [mirror_bytes_per_order(order, args.orders, retire=False) for _ in range(args.runs)]
    retired = [mirror_bytes_per_order(order, args.orders, retire=True) for _ in range(args.runs)]
    in_memory, left = statistics.median(kept), statistics.median(retired)
    report = {
        "orders": args.orders,
        "lines_per_order": args.lines,
        "runs": args.runs,
        "stored_value_bytes": len(encode_order(order)),
        "in_memory_bytes_per_order": round(in_memory),
        "retired_bytes_per_order": round(left),
        "ratio": round(in_memory / left, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

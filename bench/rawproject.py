"""The projection's baseline: a raw aiokafka loop doing the stock agent's work, nothing more.

Run as `python -m bench.rawproject BOOTSTRAP TOPIC OUT_TOPIC START_OFFSETS_JSON`; prints one
JSON line. It reads the inbox from those offsets to the end offsets as of its start
(getmany), decodes each record with msgspec, applies the stock engine's pure rule to a
dict of values keyed by SKU (`bench.engine.project`) and produces the StockChanged records
(linger 2 ms, acks=all, as the agents' producer). An event is done once Kafka acknowledged
all its outputs; the rate counts from the first record fetched, as the worker's counts from
its first applied event. Unlike the agent it keeps no table: no RocksDB, no changelog.
"""

import asyncio
import sys
import time

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.acks import Outstanding
from bench.engine import Values, project
from bench.rawloop import Batch, Targets, reading, until_targets
from protocols.topics import StockInboxMessage

_decoder = msgspec.json.Decoder(StockInboxMessage)
_encoder = msgspec.json.Encoder()
LINGER_MS = 2


async def run(
    bootstrap: str, topic: str, out_topic: str, start: dict[int, int]
) -> dict[str, float]:
    """Project every record from `start` to the end as of now; the figures."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=LINGER_MS)
    await producer.start()
    try:
        async with reading(bootstrap, topic, start) as (consumer, targets):
            return await _project(consumer, targets, producer, out_topic)
    finally:
        await producer.stop()


async def _project(
    consumer: AIOKafkaConsumer, targets: Targets, producer: AIOKafkaProducer, out_topic: str
) -> dict[str, float]:
    values: Values = {}
    outstanding = Outstanding()
    counts = {"records": 0, "outputs": 0, "undecodable": 0}

    async def handle(batch: Batch) -> None:
        if not counts["records"]:
            clock["started"] = time.perf_counter()
        for record in batch:
            try:
                message = _decoder.decode(record.value)
            except msgspec.DecodeError:
                counts["undecodable"] += 1
                outstanding.track(())
                continue
            changes = project(values, message, record.offset)
            acks = [
                await producer.send(out_topic, key=record.key, value=_encoder.encode(change))
                for change in changes
            ]
            counts["outputs"] += len(acks)
            outstanding.track(acks)
        counts["records"] += len(batch)

    clock, cpu = {"started": time.perf_counter()}, time.process_time()
    await until_targets(consumer, targets, handle)
    await producer.flush()
    await outstanding.wait_settled(counts["records"])
    seconds = outstanding.last_done_at - clock["started"]
    return {
        **counts,
        "failed": outstanding.failed,
        "skus": len(values),
        "seconds": seconds,
        "events_per_s": outstanding.done / seconds if seconds > 0 else 0.0,
        "cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str]) -> int:
    """Entry point: project once and print the figures as JSON."""
    start = msgspec.json.decode(argv[3], type=dict[int, int])
    figures = asyncio.run(run(argv[0], argv[1], argv[2], start))
    sys.stdout.write(msgspec.json.encode(figures).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

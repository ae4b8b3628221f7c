"""The projection's consume-only baseline: a bare aiokafka consume-and-decode loop.

Run as `python -m bench.stock.rawloop BOOTSTRAP TOPIC START_OFFSETS_JSON` ({partition: offset});
it reads from those offsets to the end offsets as of its start and prints one JSON line.
"""

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from protocols.topics import StockInboxMessage

_decoder = msgspec.json.Decoder(StockInboxMessage)

Targets = dict[TopicPartition, int]
Batch = list[ConsumerRecord]


@contextlib.asynccontextmanager
async def reading(
    bootstrap: str, topic: str, start: dict[int, int]
) -> AsyncIterator[tuple[AIOKafkaConsumer, Targets]]:
    """A consumer at `start`, and each partition's end offset as of now (those with records)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in start]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start[tp.partition])
        end = await consumer.end_offsets(tps)
        yield consumer, {tp: end[tp] for tp in tps if end[tp] > start[tp.partition]}
    finally:
        await consumer.stop()


async def until_targets(
    consumer: AIOKafkaConsumer, targets: Targets, handle: Callable[[Batch], Awaitable[None]]
) -> None:
    """Hand every fetched batch to `handle` until each partition reached its target."""
    targets = dict(targets)
    while targets:
        for tp, batch in (await consumer.getmany(timeout_ms=200, max_records=5000)).items():
            await handle(batch)
            if batch and batch[-1].offset + 1 >= targets.get(tp, 0):
                targets.pop(tp, None)


async def consume(bootstrap: str, topic: str, start: dict[int, int]) -> dict[str, float]:
    """Read every partition from `start` to its end as of now, decoding each value."""
    counts = {"records": 0, "undecodable": 0}

    async def decode(batch: Batch) -> None:
        for record in batch:
            try:
                _decoder.decode(record.value)
            except msgspec.DecodeError:
                counts["undecodable"] += 1
        counts["records"] += len(batch)

    async with reading(bootstrap, topic, start) as (consumer, targets):
        started, cpu = time.perf_counter(), time.process_time()
        await until_targets(consumer, targets, decode)
        seconds = time.perf_counter() - started
    return {
        **counts,
        "seconds": seconds,
        "events_per_s": counts["records"] / seconds if seconds else 0.0,
        "cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str]) -> int:
    """Entry point: consume once and print the figures as JSON."""
    start = msgspec.json.decode(argv[2], type=dict[int, int])
    figures = asyncio.run(consume(argv[0], argv[1], start))
    sys.stdout.write(msgspec.json.encode(figures).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The projection baseline: a bare aiokafka consume-and-decode loop over the stock inbox.

Run as `python -m bench.rawloop BOOTSTRAP TOPIC START_OFFSETS_JSON` ({partition: offset});
it reads from those offsets to the end offsets as of its start and prints one JSON line.
"""

import asyncio
import sys
import time

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition

from protocols.topics import StockInboxMessage

_decoder = msgspec.json.Decoder(StockInboxMessage)


async def consume(bootstrap: str, topic: str, start: dict[int, int]) -> dict[str, float]:
    """Read every partition from `start` to its end as of now, decoding each value."""
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
        targets = {tp: end[tp] for tp in tps if end[tp] > start[tp.partition]}
        return await _drain(consumer, targets)
    finally:
        await consumer.stop()


async def _drain(
    consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]
) -> dict[str, float]:
    """Consume until every partition reached its target; count records and decode failures."""
    records = failed = 0
    started = time.perf_counter()
    cpu = time.process_time()
    while targets:
        for tp, batch in (await consumer.getmany(timeout_ms=200, max_records=5000)).items():
            for record in batch:
                try:
                    _decoder.decode(record.value)
                except msgspec.DecodeError:
                    failed += 1
            records += len(batch)
            if batch and batch[-1].offset + 1 >= targets.get(tp, 0):
                targets.pop(tp, None)
    seconds = time.perf_counter() - started
    return {
        "records": records,
        "undecodable": failed,
        "seconds": seconds,
        "events_per_s": records / seconds if seconds else 0.0,
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

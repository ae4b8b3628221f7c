"""The projection baseline: a bare aiokafka consume-and-decode loop over the stock inbox.

Run as `python -m bench.rawloop BOOTSTRAP TOPIC PARTITIONS`; prints one JSON line.
"""

import asyncio
import sys
import time

import msgspec
from aiokafka import AIOKafkaConsumer, TopicPartition

from protocols.topics import StockInboxMessage

_decoder = msgspec.json.Decoder(StockInboxMessage)


async def consume(bootstrap: str, topic: str, partitions: int) -> dict[str, float]:
    """Read every partition from its beginning to its end as of now, decoding each value."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        begin, end = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        targets = {tp: end[tp] for tp in tps if end[tp] > begin[tp]}
        return await _drain(consumer, targets)
    finally:
        await consumer.stop()


async def _drain(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> dict[str, float]:
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
    bootstrap, topic, partitions = argv[0], argv[1], int(argv[2])
    figures = asyncio.run(consume(bootstrap, topic, partitions))
    sys.stdout.write(msgspec.json.encode(figures).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
